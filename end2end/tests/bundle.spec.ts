import { writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";

import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";

import {
  ACCOUNT_PAGES,
  grantAdmin,
  hydrated,
  PASSWORD,
  register,
  registerConfirmed,
  SIGNED_OUT_PAGES,
  uniqueEmail,
} from "./support";

// The most wasm and JavaScript (gzip, in bytes) the log-in page may load before it is
// interactive: today's size with a little room, so growth fails CI (README, "Benchmarks").
const LOG_IN_BUDGET_GZIP = 500_000;

/** An area's own chunk, named after the function that renders its pages (app/src/routes.rs). */
const AREA_CHUNK = /\/split_+(\w+?)_page_\d+\.[0-9a-f]{20}\.wasm$/;
const areaChunks = (files: string[]) =>
  files.map((f) => AREA_CHUNK.exec(f)?.[1]).filter((area): area is string => area !== undefined);

type Encoding = "gzip" | "br";

/** The bytes `url` takes on the wire in `encoding`, which the server must serve it in; asked
 * once per file, since the pages share their files. */
const sizes = new Map<string, Promise<number>>();
function encodedSize(url: string, encoding: Encoding): Promise<number> {
  const key = `${encoding} ${url}`;
  if (!sizes.has(key)) sizes.set(key, fetchEncodedSize(url, encoding));
  return sizes.get(key) as Promise<number>;
}

function fetchEncodedSize(url: string, encoding: Encoding): Promise<number> {
  // Node resolves `localhost` to ::1 first; the server listens on 127.0.0.1.
  const address = url.replace("//localhost:", "//127.0.0.1:");
  return new Promise((resolve, reject) => {
    const req = httpRequest(address, { headers: { "accept-encoding": encoding } }, (res) => {
      if (res.headers["content-encoding"] !== encoding) {
        res.resume();
        reject(new Error(`${url} is not served with ${encoding} (${res.headers["content-encoding"]})`));
        return;
      }
      let size = 0;
      res.on("data", (chunk: Buffer) => (size += chunk.length));
      res.on("end", () => resolve(size));
    });
    req.on("error", reject);
    req.end();
  });
}

type Initial = { page: string; files: string[]; gzip: number; br: number };

/** The wasm and JavaScript `path` loads until it is interactive, in a context with an empty
 * cache (so nothing an earlier page loaded is missed), and their sizes on the wire. */
async function initialCode(browser: Browser, signedIn: BrowserContext | null, path: string): Promise<Initial> {
  const state = signedIn ? await signedIn.storageState() : undefined;
  const context = await browser.newContext({ storageState: state });
  const page = await context.newPage();
  const files = new Set<string>();
  page.on("response", (response) => {
    if (/\.(js|wasm)$/.test(new URL(response.url()).pathname)) files.add(response.url());
  });
  await page.goto(path);
  await hydrated(page);
  // A signed-in page measured as the log-in page it sent the visitor to would measure nothing.
  if (signedIn) expect(new URL(page.url()).pathname, path).not.toBe("/users/log-in");
  await context.close();
  const urls = [...files].sort();
  const sum = async (encoding: Encoding) =>
    (await Promise.all(urls.map((url) => encodedSize(url, encoding)))).reduce((a, b) => a + b, 0);
  return { page: path, files: urls.map((url) => new URL(url).pathname), gzip: await sum("gzip"), br: await sum("br") };
}

test("the log-in page loads no more wasm and JavaScript than its budget before it is interactive", async ({
  browser,
}) => {
  const logIn = await initialCode(browser, null, "/users/log-in");
  expect(logIn.files.some((f) => f.endsWith(".wasm")), `${logIn.files}`).toBe(true);
  expect(logIn.files.some((f) => f.endsWith(".js")), `${logIn.files}`).toBe(true);
  console.log(`log-in page: ${logIn.gzip} bytes gzip, ${logIn.br} brotli, in ${logIn.files.length} files`);
  expect(logIn.gzip, "gzip bytes of the log-in page's wasm and JavaScript").toBeLessThanOrEqual(LOG_IN_BUDGET_GZIP);
});

test("the log-in page is in the bundle itself and loads no area's code", async ({ browser }) => {
  const logIn = await initialCode(browser, null, "/users/log-in");
  expect(areaChunks(logIn.files), `${logIn.files}`).toEqual([]);
});

test("a page of another area loads that area's code when it is reached, and works", async ({ page }) => {
  const email = uniqueEmail("lazy-area");
  await register(page, email);
  const loaded: string[] = [];
  page.on("response", (response) => loaded.push(new URL(response.url()).pathname));
  await page.goto("/users/log-in");
  await hydrated(page);
  expect(areaChunks(loaded)).toEqual([]);

  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  // The address changes before the area's code has arrived; its heading shows once it has.
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  expect(areaChunks(loaded)).toEqual(["account"]);
  // Reached in the page, not by loading a new one: the bundle was fetched once.
  expect(loaded.filter((p) => /^\/pkg\/sigra\.[0-9a-f]{20}\.wasm$/.test(p))).toHaveLength(1);
  // The account area's behaviour runs from its chunk: the settings link navigates in the page.
  await page.getByRole("link", { name: "Settings" }).first().click();
  await expect(page).toHaveURL(/\/users\/settings$/);
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  expect(areaChunks(loaded)).toEqual(["account"]);
});

/** Signs `email` in from the hydrated log-in page after a newer deploy removed the chunks the
 * page loaded with (answered 404), which come back with the next page load unless `forGood`;
 * returns the documents the page loaded from then on. */
async function logInAcrossADeploy(page: Page, email: string, forGood: boolean): Promise<string[]> {
  await page.goto("/users/log-in");
  await hydrated(page);
  const documents: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documents.push(new URL(request.url()).pathname);
  });
  const gone = () => forGood || documents.length === 0;
  await page.route(/\/pkg\/(split|chunk)_/, (route) => (gone() ? route.fulfill({ status: 404 }) : route.continue()));
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  return documents;
}

test("a page whose area's code a newer deploy removed is loaded again from the server, and works", async ({
  page,
}) => {
  const email = uniqueEmail("lazy-deploy");
  await register(page, email);
  const documents = await logInAcrossADeploy(page, email, false);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await hydrated(page);
  expect(documents).toEqual(["/dashboard"]);
  // Its code came with the reload: the settings link navigates in the page.
  await page.getByRole("link", { name: "Settings" }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  expect(documents).toEqual(["/dashboard"]);
});

test("a page whose area's code is still missing after a reload stays as the server sent it, without reloading again", async ({
  page,
}) => {
  const email = uniqueEmail("lazy-missing");
  await register(page, email);
  const stays = page.waitForEvent("console", {
    predicate: (message) => message.text().includes("stays as the server sent it"),
    timeout: 20_000,
  });
  const documents = await logInAcrossADeploy(page, email, true);
  await stays;
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  expect(documents).toEqual(["/dashboard"]);
});

// `make bench` reads the report (BUNDLE_REPORT names the file); CI runs the measure too, so
// it keeps working as pages change.
test("every page's initial wasm and JavaScript is measured, account pages signed in", async ({
  browser,
  page,
  request,
}) => {
  test.setTimeout(300_000);
  const admin = uniqueEmail("bundle-admin");
  await registerConfirmed(page, request, admin, true);
  grantAdmin(admin);
  const measured: Initial[] = [];
  for (const path of SIGNED_OUT_PAGES) measured.push(await initialCode(browser, null, path));
  for (const path of [...ACCOUNT_PAGES, "/admin", "/admin/users", "/admin/audit"]) {
    measured.push(await initialCode(browser, page.context(), path));
  }
  for (const m of measured) expect(m.files.some((f) => f.endsWith(".wasm")), m.page).toBe(true);
  const largest = measured.reduce((a, b) => (b.gzip > a.gzip ? b : a));
  const logIn = measured.find((m) => m.page === "/users/log-in");
  if (process.env.BUNDLE_REPORT) {
    writeFileSync(process.env.BUNDLE_REPORT, JSON.stringify({ logIn, largest, pages: measured }, null, 2));
  }
});
