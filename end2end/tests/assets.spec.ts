import { expect, test } from "@playwright/test";

test("pages load the bundle and stylesheet by content-hashed names that browsers keep for good", async ({
  page,
}) => {
  const assets: { path: string; cacheControl: string | undefined }[] = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/pkg/")) {
      assets.push({ path, cacheControl: response.headers()["cache-control"] });
    }
  });
  // A page of an area (app/src/routes.rs), which loads its area's chunks besides the bundle.
  await page.goto("/users/register");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");

  const paths = assets.map((a) => a.path);
  for (const ext of ["css", "js", "wasm"]) {
    const hashed = new RegExp(`^/pkg/sigra\\.[0-9a-f]{20}\\.${ext}$`);
    const asset = assets.find((a) => hashed.test(a.path));
    expect(asset, `a hashed .${ext} among ${paths}`).toBeDefined();
    expect(asset?.cacheControl).toBe("public, max-age=31536000, immutable");
  }
  expect(paths.filter((p) => /^\/pkg\/sigra\.(js|wasm|css)$/.test(p))).toEqual([]);

  // The area's chunks too; their loader names them (and the hashed main module), so it is the
  // one script that is revalidated.
  const chunks = assets.filter((a) => /^\/pkg\/(split|chunk)_\w+\.[0-9a-f]{20}\.wasm$/.test(a.path));
  expect(chunks.length, `chunks among ${paths}`).toBeGreaterThan(0);
  for (const chunk of chunks) expect(chunk.cacheControl, chunk.path).toBe("public, max-age=31536000, immutable");
  expect(paths.filter((p) => /^\/pkg\/(split|chunk)_\w+\.wasm$/.test(p))).toEqual([]);
  const loader = assets.find((a) => a.path === "/pkg/__wasm_split.______________________.js");
  expect(loader, `the chunk loader among ${paths}`).toBeDefined();
  expect(loader?.cacheControl).toBe("no-cache");

  // The plain names stay for servers started without hash.txt, and are revalidated.
  const plain = await page.request.get("/pkg/sigra.css");
  expect(plain.status()).toBe(200);
  expect(plain.headers()["cache-control"]).toBe("no-cache");
  const missing = await page.request.get("/pkg/sigra.0123456789abcdef0123.css");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"]).toBe("no-cache");
});

test("every page names its icons and describes the site, and the icons are served", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator('meta[name="description"]')).toHaveAttribute("content", /log in/);
  for (const [selector, path, type] of [
    ['link[rel="icon"][href="/favicon.ico"]', "/favicon.ico", /icon/],
    ['link[rel="icon"][href="/favicon.svg"]', "/favicon.svg", /image\/svg\+xml/],
    ['link[rel="apple-touch-icon"]', "/apple-touch-icon.png", /image\/png/],
  ] as const) {
    await expect(page.locator(selector)).toHaveCount(1);
    const icon = await page.request.get(path);
    expect(icon.status(), path).toBe(200);
    expect(icon.headers()["content-type"], path).toMatch(type);
  }
});
