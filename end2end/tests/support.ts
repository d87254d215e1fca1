import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";

import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery staple 42";

export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Console errors and uncaught exceptions the page shows from now on. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
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

/** Creates an account on the registration page, which leads to "check your email"; `js:
 * false` for a page without JavaScript, which never hydrates. */
export async function register(page: Page, email: string, js = true) {
  await page.goto("/users/register");
  if (js) await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/users\/check-email$/);
}

/** Creates an account and logs in to it (no second factor yet). */
export async function registerAndLogIn(page: Page, email: string, js = true) {
  await register(page, email, js);
  await page.goto("/users/log-in");
  if (js) await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  // A log-in lands on the example page behind it; the callers start from the settings.
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.goto("/users/settings");
  if (js) await hydrated(page);
}

export async function logOut(page: Page) {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** Waits for mail with `subject` to `to` in the development mailbox; returns its text part. */
export async function mailText(request: APIRequestContext, to: string, subject: string): Promise<string> {
  let id = "";
  await expect
    .poll(
      async () => {
        const list = await (await request.get(`/dev/mailbox?to=${encodeURIComponent(to)}`)).text();
        const match = list.match(new RegExp(`href="/dev/mailbox/([^"]+)">${subject}<`));
        id = match ? match[1] : "";
        return id;
      },
      { timeout: 15_000 },
    )
    .not.toBe("");
  const page = await (await request.get(`/dev/mailbox/${id}`)).text();
  return page.replace(/&amp;/g, "&");
}

export function linkIn(text: string, path: string): string {
  const match = text.match(new RegExp(`https?://[^\\s"<]+${path.replace(/\//g, "\\/")}[A-Za-z0-9_-]+`));
  expect(match, `a ${path} link in the mail`).not.toBeNull();
  return new URL(match![0]).pathname;
}

/** RFC 6238 (SHA-1, 6 digits, 30 s), written here independently of the server's totp-rs. */
export function totp(base32Secret: string, offsetSeconds = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of base32Secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  }
  const bytes = Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor((Date.now() / 1000 + offsetSeconds) / 30)));
  const mac = createHmac("sha1", bytes).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

/** Grants the admin area to `email` with the operator's command, as an operator would. */
export function grantAdmin(email: string) {
  const binary = process.env.E2E_SERVER_BINARY;
  const database = process.env.E2E_DATABASE_URL;
  if (!binary || !database) throw new Error("scripts/e2e.sh sets E2E_SERVER_BINARY and E2E_DATABASE_URL");
  const secret = execFileSync(binary, ["generate-secret"]).toString().trim();
  execFileSync(binary, ["admin", "grant", email], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: database, SIGRA_SECRET_KEY: secret },
  });
}

/** Registers `email` in `page`, confirms the address from its mail and logs in. */
export async function registerConfirmed(page: Page, request: APIRequestContext, email: string, js: boolean) {
  await registerAndLogIn(page, email, js);
  const text = await mailText(request, email, "Confirm your email address");
  await page.goto(linkIn(text, "/users/confirm/"));
  if (js) await hydrated(page);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(page).toHaveURL(/\/users\/settings$/);
  // Shown means taken: a page opened before the settings page took its message would show it
  // in its header instead (a two-row header on a phone).
  await expect(page.getByTestId("flash")).toContainText("your email address is confirmed");
}

/** The pages a visitor sees signed out, for the accessibility sweeps. */
export const SIGNED_OUT_PAGES = [
  "/",
  "/users/register",
  "/users/log-in",
  "/users/confirm",
  "/users/reset-password",
  "/users/check-email",
  "/no-such-page",
];

/** The signed-in account's pages, for the accessibility sweeps. */
export const ACCOUNT_PAGES = [
  "/dashboard",
  "/users/settings",
  "/users/settings/profile",
  "/users/settings/email",
  "/users/settings/password",
  "/users/settings/security",
  "/users/settings/accounts",
  "/users/settings/api-tokens",
  "/users/settings/delete",
  "/users/settings/export",
  "/users/sessions",
  "/users/sudo",
  "/users/confirm",
  "/organizations",
  "/organizations/new",
];
