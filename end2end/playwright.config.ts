import { defineConfig } from "@playwright/test";

// Debian's Chromium headless shell (what Playwright's own headless Chromium is); its download
// is not used. The shell runs the suite in two thirds of the full browser's time here.
export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  // A slow shared CI machine can miss a 5 s wait for a WebAssembly page under load.
  expect: { timeout: 10_000 },
  // One retry, reported as "flaky" in the list, so a timing miss on a loaded machine
  // does not hide the run's real failures (a test that fails twice still fails).
  retries: 1,
  fullyParallel: true,
  workers: 2,
  // The list for the log; the HTML report keeps the screenshots tests attach (both themes).
  reporter: [["list"], ["html", { open: "never", outputFolder: "../target/playwright-report" }]],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? "http://localhost:3000",
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium-headless-shell",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "retain-on-failure",
  },
});
