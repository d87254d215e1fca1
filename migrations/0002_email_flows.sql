-- Email flows: one-time tokens, the job queue, the development mailbox, and the account
-- columns for email change and forced password change.

-- One-time tokens sent by mail. Only a SHA-256 digest is stored; using one is a conditional
-- UPDATE on `used_at IS NULL`, so exactly one use wins.
CREATE TABLE user_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    sent_to TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE UNIQUE INDEX user_tokens_purpose_hash_key ON user_tokens (purpose, token_hash);
CREATE INDEX user_tokens_user_purpose_idx ON user_tokens (user_id, purpose, created_at);
CREATE INDEX user_tokens_expires_at_idx ON user_tokens (expires_at);

-- Durable background jobs. A runner claims a due job by setting a lease; a job whose runner
-- died is claimed again once the lease runs out. Payloads are sealed (encrypted) JSON.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    failed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE failed_at IS NULL;

CREATE TABLE dev_mailbox (
    id TEXT PRIMARY KEY,
    sent_at BIGINT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX dev_mailbox_recipient_idx ON dev_mailbox (recipient, sent_at);

-- An address asked for in an email change is reserved until confirmed or cancelled.
ALTER TABLE users ADD COLUMN pending_email TEXT;
CREATE UNIQUE INDEX users_pending_email_key ON users (pending_email) WHERE pending_email IS NOT NULL;
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
