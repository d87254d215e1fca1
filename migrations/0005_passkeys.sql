-- Passkeys (WebAuthn credentials) and the server-side state of WebAuthn ceremonies.

CREATE TABLE user_passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- base64url of the credential id, for the discoverable log-in lookup.
    credential_id TEXT NOT NULL,
    -- webauthn-rs's Passkey (public key, counter, flags) as JSON.
    passkey TEXT NOT NULL,
    name TEXT NOT NULL,
    aaguid TEXT,
    sign_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX user_passkeys_credential_key ON user_passkeys (credential_id);
CREATE INDEX user_passkeys_user_idx ON user_passkeys (user_id);

-- Ceremony state lives server-side so any process can finish what another started; a row is
-- taken (deleted) by its one use and dies after a few minutes.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_idx ON webauthn_ceremonies (expires_at);
