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
  await page.goto("/users/log-in");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");

  const paths = assets.map((a) => a.path);
  for (const ext of ["css", "js", "wasm"]) {
    const hashed = new RegExp(`^/pkg/sigra\\.[0-9a-f]{20}\\.${ext}$`);
    const asset = assets.find((a) => hashed.test(a.path));
    expect(asset, `a hashed .${ext} among ${paths}`).toBeDefined();
    expect(asset?.cacheControl).toBe("public, max-age=31536000, immutable");
  }
  expect(paths.filter((p) => /^\/pkg\/sigra\.(js|wasm|css)$/.test(p))).toEqual([]);

  // The plain names stay for servers started without hash.txt, and are revalidated.
  const plain = await page.request.get("/pkg/sigra.css");
  expect(plain.status()).toBe(200);
  expect(plain.headers()["cache-control"]).toBe("no-cache");
  const missing = await page.request.get("/pkg/sigra.0123456789abcdef0123.css");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"]).toBe("no-cache");
});
