-- Sign-in with providers (OAuth 2 / OpenID Connect): linked identities, the server-side state
-- of an authorization in flight, and identities waiting for their account (an address to
-- confirm, or an existing account to prove). `users.password_hash` is already nullable:
-- accounts a provider created may have no password.

-- One row per (provider, subject): the identity is found by these, never by email. Provider
-- tokens are sealed (AEAD) with the key named by key_id, like TOTP secrets.
CREATE TABLE user_identities (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT,
    email TEXT,
    email_verified BIGINT NOT NULL DEFAULT 0,
    name TEXT,
    avatar_url TEXT,
    access_token_sealed TEXT,
    refresh_token_sealed TEXT,
    key_id TEXT,
    token_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX user_identities_provider_subject_key ON user_identities (provider, subject);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- An authorization in flight. Keyed by the SHA-256 of the `state` sent to the provider and
-- bound to the browser that started it (SHA-256 of its binding cookie). Taken (deleted) by its
-- one use; dead after 15 minutes. The PKCE verifier and nonce are sealed. A provider that posts
-- its answer (form_post) leaves it here, sealed, for the browser's own same-site request.
CREATE TABLE oauth_transactions (
    state_hash TEXT PRIMARY KEY,
    binding_hash TEXT NOT NULL,
    provider TEXT NOT NULL,
    intent TEXT NOT NULL,
    user_id TEXT,
    session_id TEXT,
    secrets_sealed TEXT NOT NULL,
    return_to TEXT NOT NULL,
    posted_sealed TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_transactions_expires_idx ON oauth_transactions (expires_at);

-- A provider identity waiting in one browser (at most one per browser): for an address (the
-- provider gave none), or for the owner of an existing account with the same address to prove
-- it. Sealed, keyed by the browser's binding, single use, 15 minutes.
CREATE TABLE oauth_pending (
    binding_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    user_id TEXT,
    -- The session the browser had when the identity began to wait: proving the account
    -- takes a log-in after that, so it is never this one.
    session_id TEXT,
    identity_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_pending_expires_idx ON oauth_pending (expires_at);
