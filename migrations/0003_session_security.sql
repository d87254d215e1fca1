-- Session security: lockout counters, sudo and location on sessions, shared rate-limit windows.

ALTER TABLE users ADD COLUMN failed_login_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
-- Lockouts in a row, for the growing lock duration; a successful log-in resets it.
ALTER TABLE users ADD COLUMN lockout_count BIGINT NOT NULL DEFAULT 0;

ALTER TABLE user_sessions ADD COLUMN sudo_at BIGINT;
ALTER TABLE user_sessions ADD COLUMN geo_city TEXT;
ALTER TABLE user_sessions ADD COLUMN geo_country TEXT;

-- Fixed-window counters shared by every process (the `database` rate-limit backend).
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
