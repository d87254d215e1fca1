import { expect, test, type Page } from "@playwright/test";

import {
  hydrated,
  linkIn,
  mailText,
  PASSWORD,
  register,
  registerAndLogIn,
  registerConfirmed,
  uniqueEmail,
} from "./support";

/** How many mails with `subject` the development mailbox holds for `to`. */
async function mailCount(page: Page, to: string, subject: string): Promise<number> {
  const list = await (await page.request.get(`/dev/mailbox?to=${encodeURIComponent(to)}`)).text();
  return list.split(`>${subject}<`).length - 1;
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("registration and log-in work from the keyboard alone", async ({ page }) => {
      const email = uniqueEmail(js ? "keys-js" : "keys-nojs");
      await page.goto("/users/register");
      if (js) await hydrated(page);
      // The first field has the focus; Tab moves on; Enter submits.
      await expect(page.getByLabel("Email")).toBeFocused();
      await page.keyboard.type(email);
      await page.keyboard.press("Tab");
      await expect(page.getByLabel("Password")).toBeFocused();
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(/\/users\/check-email$/);

      await page.goto("/users/log-in");
      if (js) await hydrated(page);
      await expect(page.getByLabel("Email", { exact: true })).toBeFocused();
      await page.keyboard.type(email);
      await page.keyboard.press("Tab");
      await expect(page.getByLabel("Password")).toBeFocused();
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press("Enter");
      await expect(page).toHaveURL(/\/dashboard$/);
      await expect(page.getByTestId("dashboard-greeting")).toContainText(email);
    });

    test("check your email names the address, links the mailbox and sends the mail again", async ({ page }) => {
      const email = uniqueEmail(js ? "again-js" : "again-nojs");
      await register(page, email, js);
      await expect(page.getByTestId("sent-to")).toContainText(email);
      await expect(page.getByTestId("dev-mailbox").getByRole("link", { name: "development mailbox" })).toHaveAttribute(
        "href",
        "/dev/mailbox",
      );
      await mailText(page.request, email, "Confirm your email address");
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Send it again" }).click();
      await expect(page).toHaveURL(/\/users\/check-email$/);
      // Said on the page itself once it is interactive, by the flash after a reload without.
      await expect(page.getByText("we sent a new link and code")).toBeVisible();
      await expect.poll(() => mailCount(page, email, "Confirm your email address")).toBe(2);

      // The code form has the address already.
      await page.getByRole("link", { name: "Enter the code" }).click();
      await expect(page.getByLabel("Email", { exact: true })).toHaveValue(email);
    });

    test("a used link offers a new one right there", async ({ page }) => {
      const email = uniqueEmail(js ? "used-js" : "used-nojs");
      await register(page, email, js);
      const link = linkIn(await mailText(page.request, email, "Confirm your email address"), "/users/confirm/");
      await page.goto(link);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Confirm my email address" }).click();
      await expect(page.getByTestId("flash")).toContainText("confirmed");

      await page.goto(link);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Confirm my email address" }).click();
      await expect(page.getByTestId("form-error")).toBeVisible();
      await expect(page).toHaveURL(/\/users\/confirm\/link$/);
      const offer = page.getByTestId("new-link");
      await expect(offer.getByLabel("Email")).toHaveValue(email);
      await offer.getByRole("button", { name: "Send a new link and code" }).click();
      await expect(page).toHaveURL(/\/users\/check-email$/);
    });

    test("repeated failed log-ins point to the mailbox without saying whether the account exists", async ({ page }) => {
      await page.goto("/users/log-in");
      for (let attempt = 1; attempt <= 3; attempt++) {
        if (js) await hydrated(page);
        await page.getByLabel("Email", { exact: true }).fill(uniqueEmail("nobody"));
        await page.getByLabel("Password").fill("not the password at all");
        await page.getByRole("button", { name: "Log in", exact: true }).click();
        const error = page.getByTestId("form-error");
        if (attempt < 3) {
          await expect(error).toHaveText("Invalid email or password.");
        } else {
          await expect(error).toContainText("If you have an account, check your email");
        }
      }
    });
  });
}

test("a display name replaces the address in the header and the account menu", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const email = uniqueEmail("named");
  await registerAndLogIn(page, email);
  await page.getByRole("link", { name: "Change your display name" }).click();
  await expect(page).toHaveURL(/\/users\/settings\/profile$/);
  await hydrated(page);
  await page.getByLabel("Display name").fill("Grace Hopper");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/users\/settings$/);
  await expect(page.getByTestId("flash")).toHaveText("Your display name was saved.");
  await expect(page.getByTestId("display-name")).toHaveText("Grace Hopper");
  await expect(page.getByTestId("signed-in-name")).toHaveText("Grace Hopper");
  await page.setViewportSize({ width: 390, height: 844 });
  const menu = page.getByTestId("account-menu");
  await expect(menu.locator("summary")).toContainText("G");
  await context.close();
});

test("on a phone the header is one row with an account menu", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const email = uniqueEmail("phone");
  // Confirmed, so no reminder banner stands under the header.
  await registerConfirmed(page, page.request, email, true);
  await page.goto("/dashboard");
  await hydrated(page);
  const header = await page.locator("header").boundingBox();
  expect(header!.height).toBeLessThan(80);
  const main = await page.locator("main").boundingBox();
  expect(main!.y).toBeLessThan(100);
  await expect(page.getByTestId("signed-in-email")).toBeHidden();

  const menu = page.getByTestId("account-menu");
  await expect(menu.getByRole("link", { name: "Settings" })).toBeHidden();
  await menu.locator("summary").click();
  await expect(menu).toContainText(email);
  for (const name of ["Settings", "Sessions", "Security"]) {
    await expect(menu.getByRole("link", { name, exact: true })).toBeVisible();
  }
  await menu.getByRole("link", { name: "Security", exact: true }).click();
  await expect(page).toHaveURL(/\/users\/settings\/security$/);
  await expect(page.getByTestId("account-menu").getByRole("link", { name: "Settings", exact: true })).toBeHidden();
  await expect(page.getByRole("link", { name: "Settings" }).first()).toBeVisible();
  await page.getByTestId("account-menu").locator("summary").click();
  await page.getByTestId("account-menu").getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await context.close();
});

test("screenshots of the main pages in both themes, for the report", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const email = uniqueEmail("shots");
  const setup = await browser.newContext();
  const signedIn = await setup.newPage();
  await registerAndLogIn(signedIn, email);
  const cookies = await setup.cookies();
  await setup.close();
  for (const colorScheme of ["light", "dark"] as const) {
    const guest = await browser.newContext({ colorScheme });
    const member = await browser.newContext({ colorScheme });
    await member.addCookies(cookies);
    const shots: [string, Page, string][] = [
      ["home", await guest.newPage(), "/"],
      ["log-in", await guest.newPage(), "/users/log-in"],
      ["register", await guest.newPage(), "/users/register"],
      ["dashboard", await member.newPage(), "/dashboard"],
      ["settings", await member.newPage(), "/users/settings"],
      ["security", await member.newPage(), "/users/settings/security"],
      ["sessions", await member.newPage(), "/users/sessions"],
    ];
    for (const [name, page, path] of shots) {
      await page.goto(path);
      await hydrated(page);
      await expect(page).toHaveURL(new RegExp(`${path.replace(/\//g, "\\/")}$`));
      await testInfo.attach(`${name}-${colorScheme}.png`, {
        body: await page.screenshot({ fullPage: true }),
        contentType: "image/png",
      });
    }
    await guest.close();
    await member.close();
  }
});
