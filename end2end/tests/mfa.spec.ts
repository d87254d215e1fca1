import { readFileSync } from "node:fs";

import { expect, test } from "@playwright/test";

import { hydrated, logOut, PASSWORD, passwordStep, registerAndLogIn, totp, uniqueEmail } from "./support";

test("set up an authenticator app, log in with a code, trust the browser, use a backup code without JavaScript", async ({ browser }) => {
  const email = uniqueEmail("totp");
  const context = await browser.newContext();
  const page = await context.newPage();
  await registerAndLogIn(page, email);

  await expect(page.getByTestId("mfa-status")).toHaveText("Off");
  await page.getByRole("link", { name: "Manage", exact: true }).click();
  await expect(page).toHaveURL(/\/users\/settings\/security$/);
  await expect(page.getByTestId("totp-status")).toHaveText("Off");
  await page.getByRole("link", { name: "confirm your password" }).first().click();
  await expect(page).toHaveURL(/\/users\/sudo\?return_to=/);
  await hydrated(page);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/users\/settings\/security$/);
  await hydrated(page);

  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByTestId("totp-qr").locator("svg")).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expect(page.getByTestId("totp-status")).toHaveText("On");
  const codes = await page.getByTestId("backup-code").allTextContents();
  expect(codes).toHaveLength(8);
  await expect(page.getByTestId("backup-codes-left")).toHaveText("8");
  await expect(page.getByTestId("second-factor-summary")).toHaveText("On: an authenticator app");
  // Shown once, with the ways to keep them; the download is a text file of every code.
  await expect(page.getByTestId("backup-codes-warning")).toContainText("shown only this once");
  const downloading = page.waitForEvent("download");
  await page.getByTestId("download-backup-codes").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("backup-codes.txt");
  const saved = readFileSync((await download.path())!, "utf8");
  for (const code of codes) expect(saved).toContain(code);
  await page.getByRole("button", { name: "I have saved these codes" }).click();
  await expect(page.getByTestId("new-backup-codes")).toHaveCount(0);

  // Log in again: the password leads to the code step. The next step's code is inside the
  // window and newer than the one the set-up used.
  await logOut(page);
  await passwordStep(page, email);
  await expect(page).toHaveURL(/\/users\/mfa\?return_to=/);
  await hydrated(page);
  await expect(page.getByTestId("flash")).toContainText("One more step");
  await page.getByLabel("Authentication code").fill("000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("form-error")).toContainText("invalid");
  await page.getByLabel("Authentication code").fill(totp(secret, 30));
  await page.getByLabel(/Trust this browser/).check();
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("dashboard-greeting")).toContainText(email);
  await page.goto("/users/settings");
  await expect(page.getByTestId("mfa-status")).toHaveText("On: an authenticator app");

  // This browser is trusted: the password alone is enough here.
  await logOut(page);
  await passwordStep(page, email);
  await expect(page).toHaveURL(/\/dashboard$/);

  // Another browser, without JavaScript, uses a backup code.
  const plainContext = await browser.newContext({ javaScriptEnabled: false });
  const plain = await plainContext.newPage();
  await plain.goto("/users/log-in");
  await plain.getByLabel("Email", { exact: true }).fill(email);
  await plain.getByLabel("Password").fill(PASSWORD);
  await plain.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(plain).toHaveURL(/\/users\/mfa\?return_to=/);
  await plain.getByLabel("Authentication code").fill("wrong-code");
  await plain.getByRole("button", { name: "Verify" }).click();
  await expect(plain.getByTestId("form-error")).toContainText("invalid");
  await plain.getByLabel("Authentication code").fill(codes[0]);
  await plain.getByRole("button", { name: "Verify" }).click();
  await expect(plain).toHaveURL(/\/dashboard$/);
  await expect(plain.getByTestId("flash")).toContainText("backup code");
  await plain.goto("/users/settings/security");
  await expect(plain.getByTestId("backup-codes-left")).toHaveText("7");
  await plainContext.close();
  await context.close();
});

test("a pending log-in cannot open account pages", async ({ browser }) => {
  const email = uniqueEmail("pending");
  const context = await browser.newContext();
  const page = await context.newPage();
  await registerAndLogIn(page, email);
  await page.goto("/users/settings/security");
  await page.getByRole("link", { name: "confirm your password" }).first().click();
  await expect(page).toHaveURL(/\/users\/sudo\?return_to=/);
  await hydrated(page);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/users\/settings\/security$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  await expect(page.getByTestId("totp-status")).toHaveText("On");
  await page.getByRole("button", { name: "I have saved these codes" }).click();
  await logOut(page);

  await passwordStep(page, email);
  await expect(page).toHaveURL(/\/users\/mfa/);
  await page.goto("/users/settings");
  await expect(page).toHaveURL(/\/users\/log-in\?return_to=\/users\/settings$/);
  await page.goto("/users/mfa");
  await hydrated(page);
  await page.getByRole("button", { name: "Cancel and log out" }).click();
  await expect(page).toHaveURL(/\/users\/log-in$/);
  await page.goto("/users/mfa");
  await expect(page.getByTestId("mfa-expired")).toBeVisible();
  await context.close();
});
