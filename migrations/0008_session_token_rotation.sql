-- Session tokens are replaced during a session's life: on sudo and on a password change (the
-- old token stops at once), and every day for remember-me sessions (rolling). A rolled token
-- stays accepted until `previous_token_expires_at`, so requests already in flight with it do
-- not fail; the session's absolute end (`expires_at`) never moves.
ALTER TABLE user_sessions ADD COLUMN token_issued_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_sessions ADD COLUMN previous_token_hash TEXT;
ALTER TABLE user_sessions ADD COLUMN previous_token_expires_at BIGINT;
UPDATE user_sessions SET token_issued_at = created_at;
CREATE UNIQUE INDEX user_sessions_previous_token_hash_key ON user_sessions (previous_token_hash);
