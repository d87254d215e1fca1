-- API tokens, JWT signing keys, refresh-token families, and the API log-in's second-factor step.

-- Bumped by a password change, "sign out everywhere" and (later) deletion: every JWT access
-- token carries the epoch it was issued under and is refused once it moves.
ALTER TABLE users ADD COLUMN token_epoch BIGINT NOT NULL DEFAULT 0;

-- Personal API tokens. Only the SHA-256 of the whole token is kept; scopes are space-separated.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at, id);

-- JWT signing keys: the private half sealed with a key derived from the secret key, the public
-- half as a JWK. A key signs from activates_at, and verifies until retires_at (if set).
CREATE TABLE jwt_signing_keys (
    id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activates_at BIGINT NOT NULL,
    retires_at BIGINT
);

-- A refresh-token family: one log-in of an API client. It dies at expires_at whatever its
-- rotations, when revoked (reuse, sign-out), or when the user's token epoch moves past it.
CREATE TABLE jwt_refresh_families (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    token_epoch BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX jwt_refresh_families_user_idx ON jwt_refresh_families (user_id);

-- Each refresh token of a family; using one supersedes it (a conditional UPDATE, so one wins).
CREATE TABLE jwt_refresh_tokens (
    id TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES jwt_refresh_families (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    superseded_at BIGINT
);
CREATE UNIQUE INDEX jwt_refresh_tokens_token_hash_key ON jwt_refresh_tokens (token_hash);
CREATE INDEX jwt_refresh_tokens_family_idx ON jwt_refresh_tokens (family_id);

-- An API log-in whose password was right, waiting for its second factor (single use, short-lived).
CREATE TABLE api_mfa_challenges (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    first_factor TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_mfa_challenges_token_hash_key ON api_mfa_challenges (token_hash);
