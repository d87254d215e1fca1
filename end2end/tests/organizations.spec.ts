import { expect, test, type Browser, type Page } from "@playwright/test";

import { hydrated, linkIn, mailText, PASSWORD, registerAndLogIn, uniqueEmail } from "./support";

/** Creates an organization from the list page; returns its slug. */
async function createOrganization(page: Page, name: string, js: boolean): Promise<string> {
  await page.getByRole("link", { name: "Organizations", exact: true }).click();
  await expect(page).toHaveURL(/\/organizations$/);
  await page.getByRole("link", { name: "Create an organization" }).click();
  await expect(page).toHaveURL(/\/organizations\/new$/);
  if (js) await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page.getByTestId("organization-name")).toHaveText(name);
  return new URL(page.url()).pathname.replace("/organizations/", "");
}

async function newPage(browser: Browser, js: boolean): Promise<Page> {
  return (await browser.newContext({ javaScriptEnabled: js })).newPage();
}

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("create two organizations and switch between them in the header", async ({ page }) => {
      const tag = `${js ? "js" : "nojs"}${Date.now() % 1_000_000}`;
      await registerAndLogIn(page, uniqueEmail(`orgs-${tag}`), js);
      const acme = await createOrganization(page, `Acme ${tag}`, js);
      const beta = await createOrganization(page, `Beta ${tag}`, js);
      expect(acme).toBe(`acme-${tag}`);
      const switcher = page.getByLabel("Organization", { exact: true });
      await expect(switcher).toHaveValue(beta);

      if (js) {
        await hydrated(page);
        // A marker a full page load would wipe: the hydrated switcher keeps the page.
        await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
      }
      await switcher.selectOption(acme);
      await page.getByRole("button", { name: "Switch", exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`/organizations/${acme}$`));
      await expect(page.getByTestId("organization-name")).toHaveText(`Acme ${tag}`);
      await expect(page.getByLabel("Organization", { exact: true })).toHaveValue(acme);
      if (js) {
        expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
      }
    });

    test("an owner opens the organization's admin view and its activity", async ({ page }) => {
      const tag = `${js ? "js" : "nojs"}${Date.now() % 1_000_000}`;
      await registerAndLogIn(page, uniqueEmail(`lens-${tag}`), js);
      const slug = await createOrganization(page, `Lens ${tag}`, js);
      await page.getByRole("link", { name: "Admin view: members' security and activity" }).click();
      await expect(page).toHaveURL(new RegExp(`/admin/organizations/${slug}$`));
      await expect(page.getByTestId("lens-name")).toHaveText(`Lens ${tag}`);
      await expect(page.getByTestId("lens-member")).toHaveCount(1);
      await page.getByRole("link", { name: "This organization's activity" }).click();
      await expect(page).toHaveURL(new RegExp(`/admin/organizations/${slug}/audit$`));
      await expect(page.getByTestId("audit-action").filter({ hasText: "organization.create" })).toHaveCount(1);
    });

    test("invite someone who signs up through the mailed link and joins", async ({ page, browser, request }) => {
      const tag = `${js ? "js" : "nojs"}${Date.now() % 1_000_000}`;
      await registerAndLogIn(page, uniqueEmail(`owner-${tag}`), js);
      const slug = await createOrganization(page, `Team ${tag}`, js);
      await page.getByRole("link", { name: "Members", exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/members$`));
      if (js) await hydrated(page);
      const invitee = uniqueEmail(`invitee-${tag}`);
      await page.getByLabel("Email address").fill(invitee);
      await page.getByLabel("Role", { exact: true }).selectOption("admin");
      await page.getByRole("button", { name: "Send invitation" }).click();
      await expect(page.getByTestId("invitation")).toContainText(invitee);

      const text = await mailText(request, invitee, `You are invited to join Team ${tag}`);
      const joiner = await newPage(browser, js);
      await joiner.goto(linkIn(text, "/invitations/"));
      await expect(joiner).toHaveURL(/\/invitations\/accept$/);
      await expect(joiner.getByTestId("invitation-summary")).toContainText(`Team ${tag}`);
      if (js) await hydrated(joiner);
      await joiner.getByLabel("Password").fill(PASSWORD);
      await joiner.getByRole("button", { name: "Create account and join" }).click();
      await expect(joiner).toHaveURL(new RegExp(`/organizations/${slug}$`));
      await expect(joiner.getByTestId("organization-role")).toHaveText("admin");
      await expect(joiner.getByTestId("signed-in-email")).toHaveText(invitee);

      await page.reload();
      await expect(page.getByTestId("member")).toHaveCount(2);
      await expect(page.getByTestId("invitation")).toHaveCount(0);
    });
  });
}
