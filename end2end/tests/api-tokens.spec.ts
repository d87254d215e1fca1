import { expect, test, type Page } from "@playwright/test";

import { hydrated, PASSWORD, registerAndLogIn, uniqueEmail } from "./support";

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("create an API token under sudo, see it once, use it, revoke it", async ({ page, request }) => {
      const email = uniqueEmail(js ? "token-js" : "token-nojs");
      await registerAndLogIn(page, email, js);
      await page.getByRole("link", { name: "Create and revoke tokens" }).click();
      await expect(page).toHaveURL(/\/users\/settings\/api-tokens$/);
      await expect(page.getByTestId("no-api-tokens")).toBeVisible();
      await page.getByRole("link", { name: "confirm your password" }).click();
      await expect(page).toHaveURL(/\/users\/sudo\?return_to=\/users\/settings\/api-tokens$/);
      if (js) await hydrated(page);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Confirm" }).click();
      await expect(page).toHaveURL(/\/users\/settings\/api-tokens$/);
      if (js) await hydrated(page);

      await page.getByLabel("Name").fill("Deploy bot");
      await page.getByLabel("profile:read").check();
      await page.getByRole("button", { name: "Create token" }).click();
      const shown = page.getByTestId("new-api-token-value");
      await expect(shown).toHaveValue(/^sigra_[A-Za-z0-9_-]{49}$/);
      const token = await shown.inputValue();
      const copy = page.getByRole("button", { name: "Copy" });
      if (js) {
        await copy.click();
        await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
      } else {
        await expect(copy).toBeDisabled();
      }
      await expect(page.getByTestId("api-token-name")).toHaveText(["Deploy bot"]);

      const me = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
      expect(me.status()).toBe(200);
      expect((await me.json()).email).toBe(email);
      const forbidden = await request.get("/api/v1/sessions", { headers: { Authorization: `Bearer ${token}` } });
      expect(forbidden.status()).toBe(403);

      await page.reload();
      await expect(page.getByTestId("api-token-name")).toHaveText(["Deploy bot"]);
      await expect(page.getByTestId("new-api-token")).toHaveCount(0);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Revoke Deploy bot", exact: true }).click();
      await expect(page.getByTestId("no-api-tokens")).toBeVisible();
      const revoked = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
      expect(revoked.status()).toBe(401);
    });
  });
}
