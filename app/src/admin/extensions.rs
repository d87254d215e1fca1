//! The app's own additions to the admin area, through `sigra::admin::extensions`: the number
//! of projects each account made (a column of the user list), an "organization owner" badge,
//! and a section listing the account's projects. Copy it for your own tables; register it in
//! [`crate::ssr::sigra_builder`].

use std::collections::HashMap;

use sigra::admin::extensions::{AdminExtensions, AdminField, AdminSection};
use sigra::hooks::HookError;
use sigra::mail::BoxFuture;
use sigra::users::UserId;
use sqlx::AnyConnection;

/// How many projects the section lists.
const SECTION_PROJECTS: i64 = 20;

/// The example `projects` table in the admin area.
pub struct ProjectsInAdmin;

fn failed(error: sqlx::Error) -> HookError {
    HookError(format!("reading projects for the admin area: {error}"))
}

impl AdminExtensions for ProjectsInAdmin {
    fn list_fields<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        users: &'a [UserId],
    ) -> BoxFuture<'a, Result<HashMap<String, Vec<AdminField>>, HookError>> {
        Box::pin(async move {
            if users.is_empty() {
                return Ok(HashMap::new());
            }
            // One query for the page: `created_by IN ($1, …, $n)`.
            let placeholders: Vec<String> = (1..=users.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT created_by, COUNT(*) FROM projects WHERE created_by IN ({}) \
                 GROUP BY created_by",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
            for user in users {
                query = query.bind(user.as_str());
            }
            let counts = query.fetch_all(conn).await.map_err(failed)?;
            Ok(counts
                .into_iter()
                .map(|(user, count)| {
                    let field = AdminField {
                        label: "Projects".to_owned(),
                        value: count.to_string(),
                    };
                    (user, vec![field])
                })
                .collect())
        })
    }

    fn badges<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Vec<String>, HookError>> {
        Box::pin(async move {
            let owned: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM organization_memberships m \
                 JOIN organizations o ON o.id = m.organization_id \
                 WHERE m.user_id = $1 AND m.role = 'owner' AND o.personal = 0 \
                 AND o.deleted_at IS NULL",
            )
            .bind(user.as_str())
            .fetch_one(conn)
            .await
            .map_err(failed)?;
            Ok((owned > 0)
                .then(|| "Organization owner".to_owned())
                .into_iter()
                .collect())
        })
    }

    fn sections<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        user: &'a UserId,
    ) -> BoxFuture<'a, Result<Vec<AdminSection>, HookError>> {
        Box::pin(async move {
            let projects: Vec<(String, String)> = sqlx::query_as(
                "SELECT p.name, o.name FROM projects p \
                 JOIN organizations o ON o.id = p.organization_id \
                 WHERE p.created_by = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2",
            )
            .bind(user.as_str())
            .bind(SECTION_PROJECTS)
            .fetch_all(conn)
            .await
            .map_err(failed)?;
            if projects.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![AdminSection {
                title: "Projects".to_owned(),
                fields: projects
                    .into_iter()
                    .map(|(name, organization)| AdminField {
                        label: name,
                        value: format!("in {organization}"),
                    })
                    .collect(),
            }])
        })
    }
}
