-- An example of a host's own organization-owned table (app/src/organizations/projects.rs):
-- every row names its organization, and every query filters by the organization of the
-- caller's membership proof. Deleting an organization (softly) keeps its projects with it.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX projects_organization_created_idx ON projects (organization_id, created_at);
