-- A pending session remembers how its first factor was proved, so the audit row of the
-- finished log-in names both factors.
ALTER TABLE user_sessions ADD COLUMN first_factor TEXT;
