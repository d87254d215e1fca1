import { expect, test, type Page } from "@playwright/test";

import { hydrated, linkIn, logOut, mailText, PASSWORD, registerAndLogIn, uniqueEmail } from "./support";

/** The test provider's own log-in page: the account is typed (see end2end/oidc/provider.mjs). */
async function atProvider(page: Page, account: string) {
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.getByLabel("Account").fill(account);
  // The provider's own wording, not the app's.
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("sign up and back in with an OpenID provider, with JavaScript", async ({ page, context }) => {
  const email = uniqueEmail("op");
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with Test OP", exact: true }).click();
  await atProvider(page, email);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  const session = (await context.cookies()).find((c) => c.name === "__Host-sigra_session");
  expect(session?.sameSite).toBe("Lax");
  expect(session?.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);

  await page.goto("/users/settings");
  await page.getByRole("link", { name: "Manage log-in methods" }).click();
  await expect(page.getByTestId("identity")).toHaveCount(1);
  await expect(page.getByTestId("no-password")).toBeVisible();

  // The provider remembers its own session: logging in again goes straight back, to the same
  // account.
  await logOut(page);
  await page.goto("/users/log-in");
  await page.getByRole("link", { name: "Continue with Test OP", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
});

test("log in with an OpenID provider without JavaScript", async ({ browser }) => {
  const email = uniqueEmail("op-nojs");
  const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await page.goto("/users/register");
  await page.getByRole("link", { name: "Sign up with Test OP", exact: true }).click();
  await atProvider(page, email);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
});

test("a provider that posts its answer from another site completes the log-in", async ({ page, context }) => {
  const email = uniqueEmail("op-post");
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with Test OP (form post)" }).click();
  await atProvider(page, email);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  // The session cookie stays SameSite=Lax: the cross-site POST only hands the answer over.
  const session = (await context.cookies()).find((c) => c.name === "__Host-sigra_session");
  expect(session?.sameSite).toBe("Lax");
});

test("a refusal at the provider lands on a clear page with no session", async ({ page, context }) => {
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with Test OP", exact: true }).click();
  await atProvider(page, "deny");
  await expect(page).toHaveURL(/\/users\/oauth\/error\?code=oauth_cancelled$/);
  await expect(page.getByTestId("oauth-error")).toContainText("was cancelled");
  expect((await context.cookies()).some((c) => c.name === "__Host-sigra_session")).toBe(false);
});

test("an existing account proves itself before a provider with its address is linked, without JavaScript", async ({ page, browser, request }) => {
  const email = uniqueEmail("owner");
  await registerAndLogIn(page, email);
  // A confirmed account (an unconfirmed one yields to the provider that proves the address).
  await page.goto(linkIn(await mailText(request, email, "Confirm your email address"), "/users/confirm/"));
  await hydrated(page);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page).toHaveURL(/\/users\/settings$/);
  await logOut(page);

  const plain = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await plain.goto("/users/log-in");
  await plain.getByRole("link", { name: "Continue with Test OP", exact: true }).click();
  await atProvider(plain, email);
  await expect(plain).toHaveURL(/\/users\/oauth\/link$/);
  await expect(plain.getByTestId("prove-account")).toContainText(`An account already uses ${email}`);
  await plain.getByRole("link", { name: "Log in to that account" }).click();
  await plain.getByLabel("Email", { exact: true }).fill(email);
  await plain.getByLabel("Password").fill(PASSWORD);
  await plain.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(plain).toHaveURL(/\/users\/oauth\/link$/);
  await plain.getByRole("button", { name: "Link the provider" }).click();
  await expect(plain).toHaveURL(/\/users\/settings\/accounts$/);
  await expect(plain.getByTestId("identity")).toHaveCount(1);
});
