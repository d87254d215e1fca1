import { readFileSync } from "node:fs";

import { expect, test, type Page } from "@playwright/test";

import { hydrated, mailText, PASSWORD, registerAndLogIn, uniqueEmail } from "./support";

async function logIn(page: Page, email: string, js: boolean) {
  if (js) await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
}

async function confirmItIsYou(page: Page, back: RegExp, js: boolean) {
  await page.getByRole("link", { name: "confirm it is you" }).click();
  await expect(page).toHaveURL(/\/users\/sudo\?return_to=/);
  if (js) await hydrated(page);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(back);
  if (js) await hydrated(page);
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("download your data under sudo", async ({ page }) => {
      const email = uniqueEmail(js ? "export-js" : "export-nojs");
      await registerAndLogIn(page, email, js);
      await page.getByRole("link", { name: "Download everything we hold about you" }).click();
      await expect(page).toHaveURL(/\/users\/settings\/export$/);
      await confirmItIsYou(page, /\/users\/settings\/export$/, js);
      const waiting = page.waitForEvent("download");
      await page.getByRole("button", { name: "Download my data" }).click();
      const download = await waiting;
      expect(download.suggestedFilename()).toMatch(/^sigra-data-\d{4}-\d{2}-\d{2}\.json$/);
      const path = await download.path();
      const data = JSON.parse(readFileSync(path, "utf8"));
      expect(data.schema_version).toBe(1);
      expect(data.account.email).toBe(email);
    });

    test("delete the account, log in during the grace period, keep it", async ({ page, request }) => {
      const email = uniqueEmail(js ? "delete-js" : "delete-nojs");
      await registerAndLogIn(page, email, js);
      await page.getByRole("link", { name: "Delete your account" }).click();
      await expect(page).toHaveURL(/\/users\/settings\/delete$/);
      await confirmItIsYou(page, /\/users\/settings\/delete$/, js);

      // A mistyped address is refused on the page and nothing happens.
      await page.getByLabel("Your email address").fill(`x${email}`);
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Delete my account" }).click();
      await expect(page.getByRole("alert")).toContainText("Type your email address exactly as shown");

      await page.getByLabel("Your email address").fill(email);
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Delete my account" }).click();
      await expect(page).toHaveURL(/\/users\/log-in$/);
      await expect(page.getByText("scheduled for deletion")).toBeVisible();
      expect(await mailText(request, email, "Your Sigra account will be deleted")).toContain("Keep my account");

      // Logging in leads only to keeping the account.
      await logIn(page, email, js);
      await expect(page).toHaveURL(/\/users\/reactivation$/);
      if (js) await hydrated(page);
      await page.goto("/users/sessions");
      await expect(page).toHaveURL(/\/users\/reactivation$/);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Keep my account" }).click();
      await expect(page).toHaveURL(/\/users\/settings$/);
      await expect(page.getByText("Your account is kept")).toBeVisible();
      await expect(page.getByTestId("account-email")).toHaveText(email);
    });
  });
}
