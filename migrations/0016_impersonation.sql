-- Impersonation: a platform admin's session as another user. It is a real session of that user
-- (kind `impersonation`, 15 minutes idle, 30 absolute) that remembers who started it and from
-- which of their own sessions, so audit rows name the admin and stopping can go back.
ALTER TABLE user_sessions ADD COLUMN impersonator_user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE user_sessions ADD COLUMN impersonator_session_id TEXT;
CREATE INDEX user_sessions_impersonator_idx ON user_sessions (impersonator_user_id);
-- The audit explorer's "effective user" filter and the user's own security feed.
CREATE INDEX audit_events_effective_user_idx ON audit_events (effective_user_id, occurred_at);
