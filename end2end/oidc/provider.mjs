// A real OpenID Provider (the `oidc-provider` package) on loopback, for the HTTP and browser
// tests. Accounts are scripted, so no one types a password here:
//
// - the account is the `login_hint` of the authorization request, or what is typed into the
//   one-field form this page shows without one (the browser tests type it);
// - `deny` answers `error=access_denied`;
// - `unverified:<address>` has that address, not verified;
// - an account with an `@` has that address, verified; any other `<name>` has
//   `<name>@example.test`, verified.
//
// Consent is granted at once. Settings (environment): PORT (required), RP_REDIRECTS (the
// relying party's callback URLs, comma-separated), CLIENT_ID and CLIENT_SECRET (default
// `test-rp` / `test-rp-secret-0123456789abcdef`), EXIT_WITH_STDIN (stop when standard input
// closes). It prints `ready <issuer>` once listening.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";

import Provider from "oidc-provider";

const port = Number(process.env.PORT);
if (!port) {
  console.error("PORT is required");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const redirects = (process.env.RP_REDIRECTS ?? "http://localhost:3000/auth/oidc/callback")
  .split(",")
  .filter(Boolean);

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "op-key-1", alg: "RS256", use: "sig" };

function claimsOf(accountId) {
  if (accountId.startsWith("unverified:")) {
    return { email: accountId.slice("unverified:".length), email_verified: false };
  }
  const email = accountId.includes("@") ? accountId : `${accountId}@example.test`;
  return { email, email_verified: true };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID ?? "test-rp",
      client_secret: process.env.CLIENT_SECRET ?? "test-rp-secret-0123456789abcdef",
      redirect_uris: redirects,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
      require_auth_time: true,
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  jwks: { keys: [signingKey] },
  cookies: { keys: ["oidc-test-cookie-key-0123456789"] },
  findAccount: async (_ctx, accountId) => ({
    accountId,
    claims: async () => ({ sub: accountId, name: `Test ${accountId}`, ...claimsOf(accountId) }),
  }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

async function formBody(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === "login") {
    const typed = req.method === "POST" ? (await formBody(req)).get("account") : null;
    const account = typed || params.login_hint;
    if (!account) {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(`<!doctype html><title>Test provider</title><h1>Test provider</h1>
        <form method="post" action="/interaction/${escapeHtml(details.uid)}">
        <label>Account <input name="account" autofocus></label> <button>Sign in</button></form>`);
      return;
    }
    if (account === "deny") {
      await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "The user declined." },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const handle = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith("/interaction/")) {
    interaction(req, res).catch((error) => {
      console.error(error);
      res.statusCode = 500;
      res.end("interaction failed");
    });
  } else {
    handle(req, res);
  }
}).listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));

// A test harness that holds our standard input stops us by exiting (the pipe closes).
if (process.env.EXIT_WITH_STDIN) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
