-- The admin audit explorer filters by organization (target and action have their indexes
-- since 0001). Rows written before the organization was recorded get it from their target.
UPDATE audit_events SET organization_id = target_id
    WHERE organization_id IS NULL AND target_type = 'organization';
CREATE INDEX audit_events_organization_idx ON audit_events (organization_id, occurred_at);
