import { expect, test, type Page } from "@playwright/test";

import { ACCOUNT_PAGES, hydrated, PASSWORD, registerAndLogIn, SIGNED_OUT_PAGES, totp, uniqueEmail } from "./support";

/**
 * What axe reports only as "needs review": every id on the page is unique, every form control
 * has exactly one accessible name (one label, or one aria-label), and every button and link has
 * a name.
 */
async function namesAndIds(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const ids = new Map<string, number>();
    document.querySelectorAll("[id]").forEach((el) => ids.set(el.id, (ids.get(el.id) ?? 0) + 1));
    ids.forEach((count, id) => {
      if (count > 1) problems.push(`id "${id}" is used ${count} times`);
    });
    document.querySelectorAll("input, select, textarea").forEach((el) => {
      const control = el as HTMLInputElement;
      if (control.type === "hidden") return;
      const labels = control.labels?.length ?? 0;
      const aria = control.hasAttribute("aria-label") || control.hasAttribute("aria-labelledby") ? 1 : 0;
      if (labels + aria !== 1) {
        problems.push(`${control.name || control.id || control.type} has ${labels + aria} names`);
      }
    });
    document.querySelectorAll("button, a[href]").forEach((el) => {
      const name = (el.getAttribute("aria-label") ?? el.textContent ?? "").trim();
      if (!name) problems.push(`${el.outerHTML.slice(0, 80)} has no name`);
    });
    return problems;
  });
}

async function visit(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
  expect(await namesAndIds(page), path).toEqual([]);
}

test("every id is unique and every control has one name, logged out", async ({ page }) => {
  for (const path of SIGNED_OUT_PAGES) {
    await visit(page, path);
  }
});

test("every id is unique and every control has one name, logged in, with two-factor on", async ({ page }) => {
  await registerAndLogIn(page, uniqueEmail("a11y"));
  await page.goto("/users/sudo?return_to=/users/settings/security");
  await hydrated(page);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/users\/settings\/security$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByTestId("totp-qr").locator("svg")).toBeVisible();
  expect(await namesAndIds(page), "the set-up").toEqual([]);
  const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expect(page.getByTestId("totp-status")).toHaveText("On");
  expect(await namesAndIds(page), "the new backup codes").toEqual([]);
  await page.getByRole("button", { name: "I have saved these codes" }).click();
  for (const path of ACCOUNT_PAGES) {
    await visit(page, path);
  }
});

test("the keyboard's first stop skips to the content, and focus is drawn as a solid ring", async ({ page }) => {
  // The home page: on the auth forms the first field already has the focus.
  await page.goto("/");
  await hydrated(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to main content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/#main$/);
  await page.keyboard.press("Tab");
  const focused = page.locator(":focus");
  expect(await focused.evaluate((el) => el.closest("main") !== null), "the next stop is in the content").toBe(true);
  const outline = await focused.evaluate((el) => {
    const style = getComputedStyle(el);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), offset: parseFloat(style.outlineOffset) };
  });
  expect(outline.style).toBe("solid");
  expect(outline.width).toBeGreaterThanOrEqual(2);
  expect(outline.offset).toBeGreaterThanOrEqual(2);
});

for (const js of [true, false]) {
  test(`the first field of an auth form takes the focus on load, ${js ? "with" : "without"} JavaScript`, async ({
    browser,
  }) => {
    const context = await browser.newContext({ javaScriptEnabled: js });
    const page = await context.newPage();
    for (const [path, label] of [
      ["/users/log-in", "Email"],
      ["/users/register", "Email"],
      ["/users/reset-password", "Email"],
    ]) {
      await page.goto(path);
      if (js) await hydrated(page);
      await expect(page.getByLabel(label, { exact: true }), path).toBeFocused();
    }
    await context.close();
  });

  test(`a failed log-in moves the focus to the error, ${js ? "with" : "without"} JavaScript`, async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: js });
    const page = await context.newPage();
    await page.goto("/users/log-in");
    if (js) await hydrated(page);
    await page.getByLabel("Email", { exact: true }).fill(uniqueEmail("focus"));
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await expect(page.getByTestId("form-error")).toBeVisible();
    await expect(page.getByTestId("form-error-region")).toBeFocused();
    await context.close();
  });
}

test("a flash message can be dismissed once the page is interactive, and goes with the next page", async ({ page }) => {
  await page.goto("/users/register");
  await hydrated(page);
  await page.getByLabel("Email").fill(uniqueEmail("flash"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/users\/check-email$/);
  await expect(page.getByTestId("flash")).toContainText("Thanks for registering");
  await page.getByRole("button", { name: "Dismiss this message" }).click();
  await expect(page.getByTestId("flash")).toHaveCount(0);

  await page.getByRole("link", { name: "Register" }).first().click();
  await expect(page).toHaveURL(/\/users\/register$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/users\/check-email$/);
  await expect(page.getByTestId("flash")).toHaveCount(0);
});

test("times read in the browser's language and time zone once hydrated, and as UTC without JavaScript", async ({
  browser,
}) => {
  for (const js of [true, false]) {
    const context = await browser.newContext({ javaScriptEnabled: js, locale: "en-GB", timezoneId: "Europe/Berlin" });
    const page = await context.newPage();
    await registerAndLogIn(page, uniqueEmail("times"), js);
    const memberSince = page.locator("time").first();
    await expect(memberSince).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    if (js) {
      await hydrated(page);
      await expect(memberSince).toHaveText(/ago|now/);
      await expect(memberSince).toHaveAttribute("title", /Central European|CET|GMT\+1/);
    } else {
      await expect(memberSince).toHaveText(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$/);
    }
    await context.close();
  }
});

test("the header's navigation marks the page being shown", async ({ page }) => {
  await registerAndLogIn(page, uniqueEmail("current"));
  await page.goto("/users/sessions");
  await hydrated(page);
  const nav = page.getByRole("navigation", { name: "Main" });
  const sessions = nav.getByRole("link", { name: "Sessions", exact: true });
  await expect(sessions).toHaveAttribute("aria-current", "page");
  expect(await sessions.evaluate((el) => getComputedStyle(el).textDecorationLine)).toContain("underline");
  await expect(nav.getByRole("link", { name: "Settings", exact: true })).not.toHaveAttribute("aria-current", "page");
  await nav.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page).toHaveURL(/\/users\/settings$/);
  await expect(nav.getByRole("link", { name: "Settings", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(sessions).not.toHaveAttribute("aria-current", "page");
});
