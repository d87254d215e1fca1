import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";

import {
  ACCOUNT_PAGES,
  grantAdmin,
  hydrated,
  PASSWORD,
  registerAndLogIn,
  registerConfirmed,
  SIGNED_OUT_PAGES,
  uniqueEmail,
} from "./support";

/** What axe only asks a person to review, but the app treats as failures: a repeated id or a
 * control with more than one label names the wrong thing to a screen reader. */
const REVIEW_AS_FAILURE = new Set(["duplicate-id", "duplicate-id-active", "duplicate-id-aria", "form-field-multiple-labels"]);

/** axe-core on the page as it is: every violation, and the review items above. */
async function axeProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  const found = [...results.violations, ...results.incomplete.filter((item) => REVIEW_AS_FAILURE.has(item.id))];
  return found.map(
    (item) => `${item.id}: ${item.help} (${item.nodes.map((node) => node.target.join(" ")).join(", ")})`,
  );
}

async function sweep(browser: Browser, paths: string[], signIn: boolean, colorScheme: "light" | "dark") {
  const context = await browser.newContext({ colorScheme });
  const page = await context.newPage();
  if (signIn) await registerAndLogIn(page, uniqueEmail(`axe-${colorScheme}`));
  for (const path of paths) {
    await page.goto(path);
    await hydrated(page);
    expect(await axeProblems(page), `${path} in ${colorScheme}`).toEqual([]);
  }
  await context.close();
}

// One test per theme: each sweep is a dozen pages.
for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds nothing on the signed-out pages, ${colorScheme}`, async ({ browser }) => {
    await sweep(browser, SIGNED_OUT_PAGES, false, colorScheme);
  });

  test(`axe finds nothing on the account pages, ${colorScheme}`, async ({ browser }) => {
    await sweep(browser, ACCOUNT_PAGES, true, colorScheme);
  });
}

test("axe finds nothing on the development mailbox", async ({ page }) => {
  await page.goto("/dev/mailbox");
  expect(await axeProblems(page)).toEqual([]);
});

test("axe finds nothing on a form showing its error", async ({ page }) => {
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(uniqueEmail("axe-error"));
  await page.getByLabel("Password").fill(PASSWORD + "wrong");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page.getByTestId("form-error")).toBeVisible();
  expect(await axeProblems(page)).toEqual([]);
});

test("axe finds nothing in the admin area, light and dark", async ({ browser, request }) => {
  for (const colorScheme of ["light", "dark"] as const) {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    const admin = uniqueEmail(`axe-admin-${colorScheme}`);
    await registerConfirmed(page, request, admin, true);
    grantAdmin(admin);
    for (const path of ["/admin", "/admin/users", "/admin/audit", "/admin/organizations"]) {
      await page.goto(path);
      await hydrated(page);
      expect(await axeProblems(page), `${path} in ${colorScheme}`).toEqual([]);
    }
    await context.close();
  }
});
