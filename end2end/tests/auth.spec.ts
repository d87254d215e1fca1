import { expect, test, type Page } from "@playwright/test";

import { register as createAccount, hydrated, PASSWORD, uniqueEmail, watchErrors } from "./support";

async function register(page: Page, email: string, js: boolean) {
  await createAccount(page, email, js);
  // The next page says what to do, naming the address typed.
  await expect(page.getByTestId("flash")).toContainText("Thanks for registering");
  await expect(page.getByTestId("sent-to")).toContainText(email);
}

async function logIn(page: Page, email: string, js: boolean) {
  if (!page.url().endsWith("/users/log-in")) await page.goto("/users/log-in");
  if (js) await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("dashboard-greeting")).toContainText(email);
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
}

async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("flash")).toHaveText("You have been logged out.");
  await expect(page.getByRole("navigation").getByRole("link", { name: "Log in" })).toBeVisible();
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("register, log in, see the account, log out, log in again", async ({ page, context }) => {
      const errors = watchErrors(page);
      const email = uniqueEmail(js ? "js" : "nojs");

      await register(page, email, js);
      await logIn(page, email, js);
      if (js) {
        // The log-in happened in the hydrated page: no full page load replaced it.
        await page.evaluate(() => ((window as any).__stillHere = true));
        await page.getByRole("navigation", { name: "Main" }).getByRole("link").first().click();
        await expect(page).toHaveURL(/\/$/);
        expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
        await page.getByRole("link", { name: "Settings" }).click();
      }
      await logOut(page);

      await expect(context.cookies()).resolves.not.toContainEqual(
        expect.objectContaining({ name: "__Host-sigra_session" }),
      );
      await page.goto("/users/settings");
      await expect(page).toHaveURL(/\/users\/log-in\?return_to=\/users\/settings$/);
      await expect(page.getByTestId("flash")).toHaveText("Please log in to continue.");

      await logIn(page, email, js);
      await logOut(page);
      expect(errors).toEqual([]);
    });

    test("a wrong password is refused with the generic message", async ({ page }) => {
      const errors = watchErrors(page);
      const email = uniqueEmail(js ? "wrong-js" : "wrong-nojs");
      await register(page, email, js);
      await page.goto("/users/log-in");
      if (js) await hydrated(page);
      await page.getByLabel("Email", { exact: true }).fill(email);
      await page.getByLabel("Password").fill("not the password at all");
      await page.getByRole("button", { name: "Log in", exact: true }).click();
      await expect(page.getByTestId("form-error")).toHaveText("Invalid email or password.");
      await expect(page.getByTestId("signed-in-email")).toHaveCount(0);
      // The form comes back with the address still typed, and nothing in the address bar.
      await expect(page).toHaveURL(/\/users\/log-in$/);
      await expect(page.getByLabel("Email", { exact: true })).toHaveValue(email);
      if (!js) await expect(page.getByLabel("Password")).toHaveValue("");
      // The refused call answers 401, which Chromium reports; nothing else may appear.
      expect(errors.filter((e) => !e.includes("status of 401"))).toEqual([]);
    });

    test("a weak password gets its reason", async ({ page }) => {
      await page.goto("/users/register");
      if (js) await hydrated(page);
      await page.getByLabel("Email").fill(uniqueEmail("weak"));
      await page.getByLabel("Password").fill("short");
      await page.getByRole("button", { name: "Create account" }).click();
      await expect(page.getByTestId("form-error")).toContainText("at least 15 characters");
    });
  });
}

test("session cookie is __Host-, Secure, HttpOnly and SameSite=Lax", async ({ page, context }) => {
  const email = uniqueEmail("cookie");
  await register(page, email, false);
  await logIn(page, email, false);
  const session = (await context.cookies()).find((c) => c.name === "__Host-sigra_session");
  expect(session).toBeDefined();
  expect(session!.secure).toBe(true);
  expect(session!.httpOnly).toBe(true);
  expect(session!.sameSite).toBe("Lax");
  expect(session!.path).toBe("/");
});

test("pages hydrate under the CSP without violations", async ({ page }) => {
  const violations: string[] = [];
  await page.exposeFunction("reportViolation", (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as any).reportViolation(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const errors = watchErrors(page);
  for (const path of ["/", "/users/register", "/users/log-in"]) {
    await page.goto(path);
    await hydrated(page);
  }
  // A script injected without the nonce is blocked.
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = true";
    document.body.appendChild(s);
  });
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  // The violation is reported asynchronously.
  await expect.poll(() => violations.some((v) => v.startsWith("script-src"))).toBe(true);
  expect(violations.filter((v) => !v.startsWith("script-src"))).toEqual([]);
  expect(errors.filter((e) => !e.includes("Content Security Policy"))).toEqual([]);
});
