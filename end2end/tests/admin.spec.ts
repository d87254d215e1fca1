import { readFileSync } from "node:fs";

import { expect, test, type Browser, type Page } from "@playwright/test";

import { grantAdmin, hydrated, PASSWORD, registerAndLogIn, registerConfirmed, uniqueEmail } from "./support";

async function newPage(browser: Browser, js: boolean): Promise<Page> {
  return (await browser.newContext({ javaScriptEnabled: js })).newPage();
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("find a user, end their sessions under sudo, read and export their events", async ({
      page,
      browser,
      request,
    }) => {
      const admin = uniqueEmail(js ? "admin-js" : "admin-nojs");
      await registerConfirmed(page, request, admin, js);
      await page.goto("/admin");
      await expect(page.getByTestId("forbidden")).toBeVisible();
      grantAdmin(admin);

      const target = uniqueEmail(js ? "target-js" : "target-nojs");
      const victim = await newPage(browser, js);
      await registerAndLogIn(victim, target, js);

      await page.goto("/users/settings");
      await page.getByRole("link", { name: "Admin", exact: true }).click();
      await expect(page).toHaveURL(/\/admin$/);
      await expect(page.getByTestId("admin-counts")).toBeVisible();
      await page.getByRole("link", { name: "Find a user" }).click();
      if (js) await hydrated(page);
      await page.getByLabel("Email or id").fill(target);
      await page.getByRole("button", { name: "Search" }).click();
      await expect(page.getByTestId("user-total")).toHaveText("1 user matches");
      await page.getByTestId("user-email").click();
      await expect(page.getByTestId("admin-user-email")).toHaveText(target);
      await expect(page.getByTestId("admin-user-session")).toHaveCount(1);

      await page.getByRole("link", { name: "confirm your password" }).click();
      await expect(page).toHaveURL(/\/users\/sudo\?return_to=/);
      if (js) await hydrated(page);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Confirm" }).click();
      await expect(page.getByTestId("admin-user-email")).toHaveText(target);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "End every session" }).click();
      await expect(page.getByTestId("admin-user-session")).toHaveCount(0);

      // With JavaScript the victim's open page hears it by itself; without, the next load.
      if (!js) await victim.reload();
      await expect(victim).toHaveURL(/\/users\/log-in/);
      if (js) await expect(victim.getByTestId("flash")).toContainText("Your session was ended");

      await page.getByRole("link", { name: "All of this account's activity" }).click();
      await expect(page).toHaveURL(/\/admin\/audit\?user=/);
      await expect(page.getByTestId("audit-action").filter({ hasText: "session.revoke_all" })).toHaveCount(1);
      const waiting = page.waitForEvent("download");
      await page.getByRole("link", { name: "Export these events as CSV" }).click();
      const download = await waiting;
      expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.csv$/);
      const csv = readFileSync(await download.path(), "utf8");
      expect(csv.startsWith("occurred_at,event_id,action,outcome,")).toBe(true);
      expect(csv).toContain(",session.revoke_all,success,");
      expect(csv).toContain(target);
    });

    test("work as a user under sudo, be refused a security change, and stop", async ({ page, browser, request }) => {
      const admin = uniqueEmail(js ? "support-js" : "support-nojs");
      await registerConfirmed(page, request, admin, js);
      grantAdmin(admin);

      const target = uniqueEmail(js ? "helped-js" : "helped-nojs");
      await registerAndLogIn(await newPage(browser, js), target, js);

      await page.goto("/admin/users");
      if (js) await hydrated(page);
      await page.getByLabel("Email or id").fill(target);
      await page.getByRole("button", { name: "Search" }).click();
      await expect(page.getByTestId("user-total")).toHaveText("1 user matches");
      await page.getByTestId("user-email").click();
      await expect(page.getByTestId("admin-user-email")).toHaveText(target);
      const detail = page.url();
      await page.getByRole("link", { name: "confirm your password" }).click();
      if (js) await hydrated(page);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Confirm" }).click();
      await expect(page.getByTestId("admin-user-email")).toHaveText(target);
      if (js) await hydrated(page);
      await page.getByRole("button", { name: "Impersonate" }).click();

      await expect(page).toHaveURL(/\/users\/settings$/);
      const banner = page.getByTestId("impersonation-banner");
      await expect(banner).toContainText(target);
      await expect(page.getByTestId("signed-in-email")).toHaveText(target);

      await page.goto("/users/settings/password");
      if (js) await hydrated(page);
      await page.getByLabel("Current password").fill(PASSWORD);
      await page.getByLabel("New password").fill("an entirely new passphrase");
      await page.getByRole("button", { name: "Change password" }).click();
      await expect(page.getByText("You can't change account security settings while impersonating.")).toBeVisible();
      await expect(banner).toBeVisible();

      await banner.getByRole("button", { name: "Stop impersonating" }).click();
      await expect(page).toHaveURL(detail);
      await expect(page.getByTestId("impersonation-banner")).toHaveCount(0);
      await expect(page.getByTestId("signed-in-email")).toHaveText(admin);
      await expect(page.getByTestId("flash")).toHaveText("You are back in your own account.");
    });
  });
}

test("the open user list and audit trail show a new account as it registers", async ({ page, browser, request }) => {
  const admin = uniqueEmail("admin-live");
  await registerConfirmed(page, request, admin, true);
  grantAdmin(admin);
  const tag = `live${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  await page.goto(`/admin/users?q=${tag}`);
  await hydrated(page);
  await expect(page.getByTestId("user-total")).toHaveText("0 users match");

  const newcomer = `${tag}@example.com`;
  const other = await newPage(browser, true);
  await registerAndLogIn(other, newcomer, true);
  await expect(page.getByTestId("user-total")).toHaveText("1 user matches");
  await expect(page.getByTestId("user-email")).toHaveText(newcomer);

  // The newcomer's own trail, so the other tests running meanwhile do not come between.
  const profile = await page.getByRole("link", { name: newcomer }).getAttribute("href");
  const id = profile!.split("/").pop();
  await page.goto(`/admin/audit?user=${id}`);
  await hydrated(page);
  await expect(page.getByTestId("audit-action").first()).toHaveText("auth.login.success");
  await other.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByTestId("audit-action").first()).toHaveText("auth.logout");
});
