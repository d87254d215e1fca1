-- Organizations: tenants that users belong to with a role, their slugs (and the old slugs that
-- still redirect), invitations by mail, and the organization a session is working in.

-- Soft deleted: a deleted organization keeps its rows (and its audit trail keeps meaning) but
-- gives its slug back. Flags are 0/1 (the Any driver cannot decode SQLite booleans).
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    personal BIGINT NOT NULL DEFAULT 0,
    members_need_second_factor BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX organizations_live_slug_key ON organizations (slug) WHERE deleted_at IS NULL;

-- One row per member. The role is a name from the role table in code.
CREATE TABLE organization_memberships (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_memberships_user_org_key ON organization_memberships (user_id, organization_id);
CREATE INDEX organization_memberships_org_role_idx ON organization_memberships (organization_id, role);

-- A slug an organization gave up, redirecting to it until expires_at. One row per slug: an
-- expired row is deleted before the slug is aliased again.
CREATE TABLE organization_slug_aliases (
    slug TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX organization_slug_aliases_expires_idx ON organization_slug_aliases (expires_at);

-- An invitation to join with a role, mailed to an address and accepted only by the account
-- with that address. Only the SHA-256 of the mailed token is kept. Pending means neither
-- accepted nor revoked; there is at most one pending row per organization and address (a
-- re-invite revokes the previous one). Rows are deleted 30 days after they expire.
CREATE TABLE organization_invitations (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX organization_invitations_token_hash_key ON organization_invitations (token_hash);
CREATE UNIQUE INDEX organization_invitations_pending_key ON organization_invitations (organization_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX organization_invitations_org_created_idx ON organization_invitations (organization_id, created_at);
CREATE INDEX organization_invitations_inviter_created_idx ON organization_invitations (invited_by, created_at);
CREATE INDEX organization_invitations_expires_idx ON organization_invitations (expires_at);

-- The organization a session works in; cleared when its user leaves that organization.
ALTER TABLE user_sessions ADD COLUMN active_organization_id TEXT REFERENCES organizations (id) ON DELETE SET NULL;
CREATE INDEX user_sessions_active_organization_idx ON user_sessions (active_organization_id);
