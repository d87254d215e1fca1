import { expect, test, type Page } from "@playwright/test";
import { hydrated, passwordStep, register, uniqueEmail, watchErrors } from "./support";

// The bundle `cargo leptos watch` serves: a debug build of the whole app in one module, without
// the page areas' split points (scripts/build-dev-bundle.sh builds it as cargo-leptos does).
// scripts/e2e.sh runs a fourth process on it, without the content-hashed names.
const development = process.env.E2E_DEV_URL;
test.use({ baseURL: development });

test.beforeEach(() => {
  if (!development) throw new Error("scripts/e2e.sh starts a server on the development bundle and sets E2E_DEV_URL");
});

/** The paths of the wasm and JavaScript the page loads from now on. */
function codeOf(page: Page): string[] {
  const code: string[] = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (/\.(js|wasm)$/.test(path)) code.push(path);
  });
  return code;
}

test("in the development bundle the log-in page hydrates from one module, without errors", async ({ page }) => {
  const errors = watchErrors(page);
  const code = codeOf(page);
  await page.goto("/users/log-in");
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Log in", exact: true })).toBeEnabled();
  expect(code.sort()).toEqual(["/pkg/sigra.js", "/pkg/sigra.wasm"]);
  expect(errors).toEqual([]);
});

test("in the development bundle a log-in reaches the account, and links move between every area in the page", async ({
  page,
}) => {
  const email = uniqueEmail("dev-bundle");
  await register(page, email);
  const errors = watchErrors(page);
  const code = codeOf(page);
  const documents: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documents.push(new URL(request.url()).pathname);
  });

  await passwordStep(page, email);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();

  const header = page.getByRole("banner");
  await header.getByRole("link", { name: "Settings" }).first().click();
  await expect(page).toHaveURL(/\/users\/settings$/);
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();

  await header.getByRole("link", { name: "Organizations", exact: true }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await expect(page.getByRole("heading", { level: 1, name: "Organizations" })).toBeVisible();

  // The account area's behaviour runs: a server function reads this browser's session.
  await page.goto("/users/sessions");
  await hydrated(page);
  await expect(page.getByTestId("this-device")).toBeVisible();

  await header.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  // Before the home page hydrates its links are plain ones, which load a new page.
  await hydrated(page);
  await page.getByRole("link", { name: "Create an account" }).first().click();
  await expect(page).toHaveURL(/\/users\/register$/);
  await expect(page.getByRole("heading", { level: 1, name: "Create an account" })).toBeVisible();

  // The log-in page, the sessions page and the log-out (a form post, sent home) were loaded;
  // every other page was reached in the page, on the one module.
  expect(documents).toEqual(["/users/log-in", "/users/sessions", "/users/log-out", "/"]);
  expect([...new Set(code)].sort()).toEqual(["/pkg/sigra.js", "/pkg/sigra.wasm"]);
  expect(errors).toEqual([]);
});
