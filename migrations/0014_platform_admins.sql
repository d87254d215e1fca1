-- Platform admins: the accounts an operator granted the admin area to (`server admin grant`).
-- Nothing else makes an admin: not the sign-up order, not the address's domain.
CREATE TABLE platform_admin_grants (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    granted_at BIGINT NOT NULL
);
