import { expect, test, type Page } from "@playwright/test";

import { linkIn, mailText } from "./support";

const PASSWORD = "correct horse battery staple 42";

function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

let js = true;

async function hydrated(page: Page) {
  if (js) await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

async function register(page: Page, email: string) {
  await page.goto("/users/register");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/users\/check-email$/);
}

async function logIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.goto("/users/settings");
  await hydrated(page);
}

for (const withJs of [true, false]) {
  test.describe(withJs ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: withJs });
    test.beforeEach(() => {
      js = withJs;
    });

    test("register, open the mail in the dev mailbox, confirm", async ({ page, request }) => {
      const email = uniqueEmail("confirm");
      await register(page, email);
      await logIn(page, email);
      await expect(page.getByTestId("confirm-banner")).toBeVisible();

      const text = await mailText(request, email, "Confirm your email address");
      await page.goto(linkIn(text, "/users/confirm/"));
      await expect(page).toHaveURL(/\/users\/confirm\/link$/);
      await hydrated(page);
      await page.getByRole("button", { name: "Confirm my email address" }).click();
      await expect(page).toHaveURL(/\/users\/settings$/);
      await expect(page.getByTestId("flash")).toHaveText("Thank you: your email address is confirmed.");
      await expect(page.getByTestId("confirm-banner")).toHaveCount(0);
    });

    test("reset a password through the mailbox", async ({ page, request }) => {
      const email = uniqueEmail("reset");
      const newPassword = "Brand-New Passphrase for 2026";
      await register(page, email);
      await page.goto("/users/log-in");
      await page.getByRole("link", { name: "Forgot your password?" }).click();
      await expect(page).toHaveURL(/\/users\/reset-password$/);
      await hydrated(page);
      await page.getByLabel("Email").fill(email);
      await page.getByRole("button", { name: "Send me a link" }).click();
      await expect(page).toHaveURL(/\/users\/check-email$/);
      await expect(page.getByTestId("flash")).toContainText("we sent it a link to reset the password");

      const text = await mailText(request, email, "Reset your password");
      await page.goto(linkIn(text, "/users/reset-password/"));
      await expect(page).toHaveURL(/\/users\/reset-password\/choose$/);
      await hydrated(page);
      await page.getByLabel("New password").pressSequentially(newPassword, { delay: 5 });
      if (js) await expect(page.getByTestId("password-strength")).toHaveText("Strong");
      await page.getByRole("button", { name: "Set my new password" }).click();
      await expect(page).toHaveURL(/\/users\/log-in$/);
      await expect(page.getByTestId("flash")).toContainText("Your password was reset");
      await logIn(page, email, newPassword);
      await mailText(request, email, "Your password was changed");
    });

    test("change the email address", async ({ page, request }) => {
      const email = uniqueEmail("old");
      const newEmail = uniqueEmail("new");
      await register(page, email);
      await logIn(page, email);
      await page.getByRole("link", { name: "Change", exact: true }).click();
      await expect(page).toHaveURL(/\/users\/settings\/email$/);
      await page.getByLabel("New email").fill(newEmail);
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByRole("button", { name: "Change email" }).click();
      await expect(page).toHaveURL(/\/users\/settings$/);
      await expect(page.getByTestId("flash")).toContainText("We sent a confirmation link to the new address");
      await expect(page.getByTestId("pending-email")).toContainText(newEmail);
      await mailText(request, email, "An email change was requested");

      const text = await mailText(request, newEmail, "Confirm your new email address");
      await page.goto(linkIn(text, "/users/settings/confirm-email/"));
      await hydrated(page);
      await page.getByRole("button", { name: "Confirm my new address" }).click();
      await expect(page).toHaveURL(/\/users\/settings$/);
      await expect(page.getByTestId("account-email")).toHaveText(newEmail);
      await mailText(request, email, "Your email address was changed");
    });
  });
}
