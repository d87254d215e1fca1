-- Second-factor locks in a row, so each lock lasts twice the last (like the password lock).
ALTER TABLE users ADD COLUMN mfa_lockout_count BIGINT NOT NULL DEFAULT 0;
