-- Second factors: TOTP, backup codes and trusted browsers.

-- One TOTP credential per user. The secret is sealed (AEAD) with the key named by key_id, so
-- keys can rotate. Unconfirmed rows (confirmed_at NULL) are enrolments in progress.
CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    key_id TEXT NOT NULL,
    confirmed_at BIGINT,
    last_used_step BIGINT,
    created_at BIGINT NOT NULL
);

-- Shown once, stored as keyed digests, used once.
CREATE TABLE user_backup_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_backup_codes_user_hash_key ON user_backup_codes (user_id, code_hash);

-- Failed second-factor attempts (TOTP and backup codes share the count) and the lock.
ALTER TABLE users ADD COLUMN mfa_failed_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_locked_until BIGINT;
-- Bumped to forget every trusted browser at once.
ALTER TABLE users ADD COLUMN mfa_trust_epoch BIGINT NOT NULL DEFAULT 0;

-- A session waiting for its second factor remembers what it becomes afterwards.
ALTER TABLE user_sessions ADD COLUMN upgrade_to TEXT;
