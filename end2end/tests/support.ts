import { expect, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery staple 42";

export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the page runs its WebAssembly (the app marks the document). */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/** The password step of a log-in, from the log-in page. */
export async function passwordStep(page: Page, email: string) {
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
}

/** Creates an account and logs in to it (no second factor yet). */
export async function registerAndLogIn(page: Page, email: string) {
  await page.goto("/users/register");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/users\/log-in$/);
  await passwordStep(page, email);
  await expect(page).toHaveURL(/\/users\/settings$/);
}

export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
}
