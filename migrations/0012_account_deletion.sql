-- Account deletion. A request schedules it after a grace period (the account can only be
-- reactivated meanwhile); the job runner executes it with the configured strategy. An executed
-- deletion gives the address up: `email` becomes a placeholder unique to the id, so no lookup
-- by address can reach a deleted account and the address is free for a new registration.
ALTER TABLE users ADD COLUMN deletion_scheduled_at BIGINT;
-- The last cancellation: a new request waits a day after it.
ALTER TABLE users ADD COLUMN deletion_cancelled_at BIGINT;
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
-- The soft strategy keeps the address the account had, for the operator's records only.
ALTER TABLE users ADD COLUMN deleted_email TEXT;
CREATE INDEX users_deletion_due_idx ON users (deletion_scheduled_at) WHERE deletion_scheduled_at IS NOT NULL AND deleted_at IS NULL;
