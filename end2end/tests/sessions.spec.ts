import { expect, test, type Page } from "@playwright/test";

import { registerAndLogIn } from "./support";

const PASSWORD = "correct horse battery staple 42";

function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

async function logIn(page: Page, email: string) {
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

test("the sessions page signs out another browser", async ({ browser }) => {
  const email = uniqueEmail("sessions");
  const laptopContext = await browser.newContext();
  const laptop = await laptopContext.newPage();
  await laptop.goto("/users/register");
  await hydrated(laptop);
  await laptop.getByLabel("Email").fill(email);
  await laptop.getByLabel("Password").fill(PASSWORD);
  await laptop.getByRole("button", { name: "Create account" }).click();
  await expect(laptop).toHaveURL(/\/users\/check-email$/);
  await logIn(laptop, email);

  const phoneContext = await browser.newContext();
  const phone = await phoneContext.newPage();
  await logIn(phone, email);
  await phone.getByRole("link", { name: "Sessions" }).click();
  await expect(phone).toHaveURL(/\/users\/sessions$/);
  await hydrated(phone);
  const sessions = phone.getByTestId("session");
  await expect(sessions).toHaveCount(2);
  await expect(phone.getByTestId("this-device")).toHaveCount(1);
  await expect(phone.getByTestId("security-events")).toContainText("Logged in");

  const other = sessions.filter({ hasNot: phone.getByTestId("this-device") });
  await other.getByRole("button", { name: "Log out" }).click();
  await expect(phone).toHaveURL(/\/users\/sudo\?return_to=\/users\/sessions$/);
  await hydrated(phone);
  await phone.getByLabel("Password").fill(PASSWORD);
  await phone.getByRole("button", { name: "Confirm" }).click();
  await expect(phone).toHaveURL(/\/users\/sessions$/);
  await expect(phone.getByTestId("flash")).toContainText("Password confirmed");
  await hydrated(phone);
  await phone.getByTestId("session").filter({ hasNot: phone.getByTestId("this-device") }).getByRole("button", { name: "Log out" }).click();
  await expect(phone.getByTestId("session")).toHaveCount(1);

  // The laptop's open page hears it and goes to log in by itself, saying why, with the way back.
  await expect(laptop).toHaveURL(/\/users\/log-in\?return_to=\/dashboard$/);
  await expect(laptop.getByTestId("flash")).toContainText("Your session was ended");
  await expect(laptop.getByRole("navigation").getByRole("link", { name: "Log in" })).toBeVisible();
  await phoneContext.close();
  await laptopContext.close();
});

test("an open page hears that its session ended on another server process and goes to log in", async ({
  browser,
}) => {
  const second = process.env.E2E_SECOND_URL;
  if (!second) throw new Error("scripts/e2e.sh starts a second process and sets E2E_SECOND_URL");
  const email = uniqueEmail("live");
  const context = await browser.newContext();
  const page = await context.newPage();
  await registerAndLogIn(page, email);
  await page.goto("/users/sessions");
  await hydrated(page);

  // Another tab of the same browser, served by the other process, logs out.
  const other = await context.newPage();
  await other.goto(`${second}/users/settings`);
  await expect(other.getByTestId("signed-in-email")).toHaveText(email);
  await other.getByRole("button", { name: "Log out" }).click();
  await expect(other.getByTestId("flash")).toContainText("You have been logged out");

  await expect(page).toHaveURL(/\/users\/log-in\?return_to=\/users\/sessions$/);
  await expect(page.getByTestId("flash")).toContainText("Your session was ended");
  await context.close();
});
