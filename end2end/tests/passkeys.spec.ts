import { expect, test, type BrowserContext, type CDPSession, type Page } from "@playwright/test";

import { hydrated, logOut, PASSWORD, registerAndLogIn, uniqueEmail } from "./support";

/** Chromium's virtual authenticator: a platform authenticator holding discoverable credentials. */
async function virtualAuthenticator(context: BrowserContext, page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  // A page told so (see logInWithPasskey) acts as a browser without passkey autofill.
  await page.addInitScript(() => {
    const credential = (window as any).PublicKeyCredential;
    if (credential && sessionStorage.getItem("e2e:no-autofill")) {
      credential.isConditionalMediationAvailable = async () => false;
    }
  });
  return { cdp, id: authenticatorId };
}

async function addPasskey(page: Page, name: string) {
  await page.goto("/users/settings/security");
  await hydrated(page);
  await page.getByTestId("passkey-list").locator("..").getByRole("link", { name: "confirm your password" }).click();
  await expect(page).toHaveURL(/\/users\/sudo\?return_to=/);
  await hydrated(page);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/users\/settings\/security$/);
  await hydrated(page);
  await page.getByLabel("Name (optional)").fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey-name")).toHaveText([name]);
}

type Authenticator = { cdp: CDPSession; id: string };

/** Whether the virtual authenticator answers by itself (as if the user touched it at once). */
async function presence(authenticator: Authenticator, enabled: boolean) {
  await authenticator.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {
    authenticatorId: authenticator.id,
    enabled,
  });
}

/**
 * The passkey log-in. "autofill": the page's conditional request (the email field's passkey
 * suggestions) is answered as soon as it starts. "button": a browser without passkey autofill,
 * where the user presses "Log in with a passkey".
 */
async function logInWithPasskey(page: Page, authenticator: Authenticator, via: "autofill" | "button") {
  await presence(authenticator, via === "autofill");
  // For the button, no autofill request waits on the page: once the authenticator may answer,
  // a waiting one could take the answer before the click lands.
  await page.evaluate(
    (button) => (button ? sessionStorage.setItem("e2e:no-autofill", "1") : sessionStorage.removeItem("e2e:no-autofill")),
    via === "button",
  );
  await page.goto("/users/log-in");
  await hydrated(page);
  if (via === "button") {
    const button = page.getByRole("button", { name: "Log in with a passkey" });
    await expect(button).toBeEnabled();
    await presence(authenticator, true);
    await button.click();
  }
  await expect(page).toHaveURL(/\/dashboard$/);
}

test("register a passkey, log out, and log in with it", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authenticator = await virtualAuthenticator(context, page);
  const email = uniqueEmail("passkey");
  await registerAndLogIn(page, email);
  await addPasskey(page, "Test key");
  // Renaming is an edit behind its own button, not a box always shown.
  const item = page.getByTestId("passkey");
  await expect(item.getByRole("textbox")).toBeHidden();
  await item.getByTestId("rename-passkey").locator("summary").click();
  await item.getByRole("textbox").fill("Laptop key");
  await item.getByRole("button", { name: "Save Test key" }).click();
  await expect(page.getByTestId("passkey-name")).toHaveText(["Laptop key"]);
  await expect(page.getByTestId("second-factor-summary")).toHaveText("On: a passkey");

  // This device holds it already: a second one here is refused with a clear message.
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("form-error")).toContainText("This device already has a passkey for your account");
  await expect(page.getByTestId("passkey")).toHaveCount(1);

  await logOut(page);
  await logInWithPasskey(page, authenticator, "button");
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  await page.goto("/users/settings");
  await expect(page.getByTestId("mfa-status")).toHaveText("On: a passkey");
  await logOut(page);
  await logInWithPasskey(page, authenticator, "autofill");
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  await context.close();
});

test("a passkey is the second factor after the password", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authenticator = await virtualAuthenticator(context, page);
  const email = uniqueEmail("second");
  await registerAndLogIn(page, email);
  await addPasskey(page, "Phone");
  await logOut(page);

  // The user types the password instead of picking the suggested passkey.
  await presence(authenticator, false);
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page).toHaveURL(/\/users\/mfa\?return_to=/);
  await hydrated(page);
  await expect(page.getByLabel("Authentication code")).toHaveCount(0);
  await presence(authenticator, true);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  await context.close();
});

test("a cloned passkey with a stale counter is let in and recorded (warn policy)", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authenticator = await virtualAuthenticator(context, page);
  const { cdp, id } = authenticator;
  const email = uniqueEmail("clone");
  await registerAndLogIn(page, email);
  await addPasskey(page, "Original");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId: id });
  expect(credentials).toHaveLength(1);
  const copy = credentials[0];

  await logOut(page);
  await logInWithPasskey(page, authenticator, "autofill");
  // The copy still has the old counter: put it back in place of the original.
  await cdp.send("WebAuthn.removeCredential", { authenticatorId: id, credentialId: copy.credentialId });
  await cdp.send("WebAuthn.addCredential", { authenticatorId: id, credential: copy });
  await logOut(page);
  await logInWithPasskey(page, authenticator, "autofill");

  await page.goto("/users/sessions");
  await hydrated(page);
  await expect(page.getByTestId("security-events")).toContainText("Passkey counter went backwards");
  await context.close();
});

test("without JavaScript the passkey button explains itself", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/users/log-in");
  await expect(page.getByRole("button", { name: "Log in with a passkey" })).toBeDisabled();
  await expect(page.getByTestId("passkey-support")).toContainText("Passkeys need JavaScript");
  await context.close();
});

test("removing the only passkey asks the passkey to confirm, and two-factor is off after", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await virtualAuthenticator(context, page);
  await registerAndLogIn(page, uniqueEmail("lastkey"));
  await addPasskey(page, "Only key");
  const item = page.getByTestId("passkey");
  await expect(item.getByRole("button", { name: "Remove Only key", exact: true })).toHaveCount(0);
  await expect(item.getByTestId("remove-last-passkey")).toContainText("only second factor");
  await item.getByRole("button", { name: "Confirm with a passkey and remove" }).click();
  await expect(page.getByTestId("passkey")).toHaveCount(0);
  await page.goto("/users/settings");
  await expect(page.getByTestId("mfa-status")).toHaveText("Off");
  await context.close();
});

test("removing a passkey that is not the last second factor asks first", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const first = await virtualAuthenticator(context, page);
  await registerAndLogIn(page, uniqueEmail("twokeys"));
  await addPasskey(page, "Phone");
  // A second device: the first is put away, another takes its place.
  await first.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: first.id });
  await virtualAuthenticator(context, page);
  await page.getByLabel("Name (optional)").fill("Laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey-name")).toHaveText(["Phone", "Laptop"]);
  await expect(page.getByTestId("second-factor-summary")).toHaveText("On: 2 passkeys");

  const phone = page.getByTestId("passkey").filter({ hasText: "Phone" });
  const confirm = phone.getByRole("button", { name: "Yes, remove it Phone" });
  await expect(confirm).toBeHidden();
  await phone.getByTestId("remove-passkey").locator("summary").click();
  await expect(phone.getByTestId("remove-passkey")).toContainText("Remove this passkey?");
  await confirm.click();
  await expect(page.getByTestId("passkey-name")).toHaveText(["Laptop"]);
  await context.close();
});

test("while the page loads the passkey button says nothing alarming, and once interactive it is enabled in place", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Hold the bundle back: the server-rendered page as it looks before it is interactive.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/pkg\/.*\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/users/log-in", { waitUntil: "domcontentloaded" });
  const button = page.getByRole("button", { name: "Log in with a passkey" });
  await expect(button).toBeDisabled();
  await expect(page.getByTestId("passkey-support")).toBeHidden();
  const before = await button.boundingBox();
  release();
  await hydrated(page);
  await expect(button).toBeEnabled();
  expect(await button.boundingBox()).toEqual(before);
  await context.close();
});

test("a browser that offers passkey autofill and then refuses the request shows no error, and its button stays usable", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // As Chromium's headless shell does: autofill is "available", the request then refused.
  await page.addInitScript(() => {
    const credentials = navigator.credentials;
    const get = credentials.get.bind(credentials);
    credentials.get = (options?: CredentialRequestOptions) => {
      if (options?.mediation !== "conditional") return get(options);
      sessionStorage.setItem("e2e:autofill-refused", "yes");
      return Promise.reject(new DOMException("Resident credentials are not supported.", "NotSupportedError"));
    };
  });
  await page.goto("/users/log-in");
  await hydrated(page);
  await page.waitForFunction(() => sessionStorage.getItem("e2e:autofill-refused") === "yes");
  await expect(page.getByTestId("form-error")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Log in with a passkey" })).toBeEnabled();
  await expect(page.getByTestId("passkey-support")).toBeHidden();
  // A failed log-in then shows its own error, and only that.
  await page.getByLabel("Email", { exact: true }).fill(uniqueEmail("autofill-refused"));
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await expect(page.getByTestId("form-error")).toHaveText(["Invalid email or password."]);
  await context.close();
});
