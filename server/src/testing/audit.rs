//! Reading the audit trail in a test: the rows of an action, and an assertion that a row with
//! the expected actor, target and outcome was written.

use super::TestApp;

/// One audit row as a test reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// `auth.login`, `session.revoke`, …
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// `user`, `admin`, `system` or `anonymous`.
    pub actor_type: String,
    /// The acting user's id.
    pub actor_id: Option<String>,
    /// The user the action was done as (the impersonated user, or the actor).
    pub effective_user_id: Option<String>,
    /// `user`, `organization`, …
    pub target_type: Option<String>,
    /// The id of what the action was about.
    pub target_id: Option<String>,
    /// The organization it happened in.
    pub organization_id: Option<String>,
    /// The action's details.
    pub metadata: serde_json::Value,
}

/// What a test expects of an audit row: the action, and whichever of actor, target and
/// outcome it names.
#[derive(Clone, Debug, Default)]
pub struct Audited {
    action: String,
    actor: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
}

impl Audited {
    /// A row of `action`.
    pub fn action(action: &str) -> Self {
        Self {
            action: action.to_owned(),
            ..Self::default()
        }
    }

    /// …whose actor is the user `id`.
    #[must_use]
    pub fn actor(mut self, id: &str) -> Self {
        self.actor = Some(id.to_owned());
        self
    }

    /// …about `id` (a user, an organization, …).
    #[must_use]
    pub fn target(mut self, id: &str) -> Self {
        self.target = Some(id.to_owned());
        self
    }

    /// …with `outcome` (`success` or `failure`).
    #[must_use]
    pub fn outcome(mut self, outcome: &str) -> Self {
        self.outcome = Some(outcome.to_owned());
        self
    }

    /// Whether `record` is such a row.
    pub fn matches(&self, record: &AuditRecord) -> bool {
        let named = |expected: &Option<String>, actual: &Option<String>| {
            expected.is_none() || expected == actual
        };
        record.action == self.action
            && named(&self.actor, &record.actor_id)
            && named(&self.target, &record.target_id)
            && self
                .outcome
                .as_ref()
                .is_none_or(|outcome| *outcome == record.outcome)
    }
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

impl TestApp {
    /// The id of the account at `email`.
    pub async fn user_id(&self, email: &str) -> String {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(self.sigra.db().pool())
            .await
            .unwrap_or_else(|error| panic!("no account {email}: {error}"))
    }

    /// Every audit row of `action`, oldest first.
    pub async fn audit_records(&self, action: &str) -> Vec<AuditRecord> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT action, outcome, actor_type, actor_id, effective_user_id, target_type, \
             target_id, organization_id, metadata FROM audit_events WHERE action = $1 \
             ORDER BY occurred_at, id",
        )
        .bind(action)
        .fetch_all(self.sigra.db().pool())
        .await
        .unwrap_or_else(|error| panic!("audit rows: {error}"));
        rows.into_iter()
            .map(
                |(
                    action,
                    outcome,
                    actor_type,
                    actor_id,
                    effective,
                    target_type,
                    target,
                    org,
                    meta,
                )| {
                    AuditRecord {
                        action,
                        outcome,
                        actor_type,
                        actor_id,
                        effective_user_id: effective,
                        target_type,
                        target_id: target,
                        organization_id: org,
                        metadata: serde_json::from_str(&meta).unwrap_or_default(),
                    }
                },
            )
            .collect()
    }

    /// Fails the test unless a row as `expected` was written; the rows of that action are in
    /// the failure.
    pub async fn assert_audited(&self, expected: &Audited) {
        let records = self.audit_records(&expected.action).await;
        assert!(
            records.iter().any(|record| expected.matches(record)),
            "no audit row as {expected:?} among {records:#?}"
        );
    }
}
