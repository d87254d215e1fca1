import { expect, test } from "@playwright/test";
import { hydrated, registerAndLogIn, uniqueEmail, watchErrors } from "./support";

// scripts/e2e.sh runs a third process with every optional capability switched off.
const smallest = process.env.E2E_SMALLEST_URL;
test.use({ baseURL: smallest });

test.beforeEach(() => {
  if (!smallest) throw new Error("scripts/e2e.sh starts the smallest configuration and sets E2E_SMALLEST_URL");
});

test("with every optional capability off, the log-in page offers the password alone and hydrates cleanly", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/users/log-in");
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Log in", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Log in with a passkey" })).toHaveCount(0);
  await expect(page.getByText("Email me a log-in link instead")).toHaveCount(0);
  await expect(page.getByTestId("providers")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("with every optional capability off, an account has no links to them and their pages are not found", async ({ page }) => {
  await registerAndLogIn(page, uniqueEmail("smallest"));
  const header = page.getByRole("banner");
  await expect(header.getByRole("link", { name: "Settings" }).first()).toBeVisible();
  for (const gone of ["Organizations", "Admin", "Security"]) {
    await expect(header.getByRole("link", { name: gone, exact: true })).toHaveCount(0);
  }
  const main = page.getByRole("main");
  await expect(main.getByText("Change your password")).toBeVisible();
  for (const gone of ["Manage log-in methods", "Create and revoke tokens", "Two-factor authentication"]) {
    await expect(main.getByText(gone)).toHaveCount(0);
  }

  for (const path of ["/users/settings/security", "/users/settings/api-tokens", "/organizations", "/admin", "/users/settings/accounts"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "Page not found" }), path).toBeVisible();
  }

  // The core still works, hydrated: the sessions page lists this one.
  await page.goto("/users/sessions");
  await hydrated(page);
  await expect(page.getByTestId("this-device")).toBeVisible();
});
