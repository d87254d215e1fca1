//! An example of a host's own organization-owned table, written the way the core scopes its
//! rows: `projects` (migration `0013_projects.sql`) belong to an organization, and every
//! query in [`store`] takes the membership proof (`OrgMember`, or `OrgAdmin` to delete) and
//! filters by the proof's organization, so a query that forgot the scope does not compile and
//! one organization's id never reaches another's rows. Copy this module for a table of your
//! own: the server functions get the proof from `ssr::member`, the store takes it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{OrgHeader, Scoped};
use crate::error::UiError;

/// Longest project name, in characters.
pub const MAX_PROJECT_NAME_CHARS: usize = 120;

/// A project as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    /// Its id (to delete it).
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
}

/// `/organizations/:slug/projects`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectsView {
    /// The organization.
    pub org: OrgHeader,
    /// Its projects, newest first.
    pub projects: Vec<ProjectRow>,
}

/// The organization's projects.
#[server(prefix = "/api/organizations", endpoint = "projects")]
pub async fn list_projects(slug: String) -> Result<Scoped<ProjectsView>, UiError> {
    let cx = crate::ssr::context().await?;
    let member = match super::ssr::page_member(&cx, &slug).await? {
        Ok(member) => member,
        Err(moved) => return Ok(Scoped::Moved(moved)),
    };
    let projects = store::list(&cx.sigra, &member).await?;
    Ok(Scoped::Ready(ProjectsView {
        org: super::ssr::header(&member),
        projects,
    }))
}

/// Adds a project (any member).
#[server(prefix = "/api/organizations", endpoint = "create-project")]
pub async fn create_project(slug: String, name: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let member = super::ssr::member(&cx, &slug).await?;
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.chars().count() > MAX_PROJECT_NAME_CHARS {
        return Err(crate::ssr::fail(UiError::IncompleteForm));
    }
    store::insert(&cx.sigra, &member, &name, &cx.request).await?;
    crate::flash::ssr::set(crate::flash::Flash::ProjectCreated);
    leptos_axum::redirect(&crate::paths::organization_projects(
        member.organization().slug.as_str(),
    ));
    Ok(())
}

/// Deletes a project (owners and admins).
#[server(prefix = "/api/organizations", endpoint = "delete-project")]
pub async fn delete_project(slug: String, id: String) -> Result<(), UiError> {
    let cx = crate::ssr::context().await?;
    let admin = super::ssr::member(&cx, &slug).await?.admin()?;
    if !store::delete(&cx.sigra, &admin, &id, &cx.request).await? {
        return Err(crate::ssr::fail(UiError::NotFound));
    }
    crate::flash::ssr::set(crate::flash::Flash::ProjectDeleted);
    leptos_axum::redirect(&crate::paths::organization_projects(
        admin.organization().slug.as_str(),
    ));
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod store {
    //! The `projects` queries. Each takes the proof and scopes by its organization.

    use sigra::audit::{record_host_event, AuditEvent, HostAction};
    use sigra::organizations::{OrgAdmin, OrgMember};
    use sigra::request::RequestContext;
    use sigra::{Error, Sigra};

    use super::ProjectRow;

    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        name: String,
        created_at: i64,
    }

    /// The member's organization's projects, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(sigra: &Sigra, member: &OrgMember) -> Result<Vec<ProjectRow>, Error> {
        let mut conn = sigra.db().acquire().await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, name, created_at FROM projects \
             WHERE organization_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(member.organization().id.as_str())
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ProjectRow {
                id: row.id,
                name: row.name,
                created_at: sigra::clock::Timestamp::from_millis(row.created_at).to_string(),
            })
            .collect())
    }

    /// Adds a project to the member's organization, audited as the host's own
    /// `project.create` in the same transaction.
    ///
    /// # Errors
    /// The database failed.
    pub async fn insert(
        sigra: &Sigra,
        member: &OrgMember,
        name: &str,
        request: &RequestContext,
    ) -> Result<(), Error> {
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = sigra.db().begin_write().await?;
        sqlx::query(
            "INSERT INTO projects (id, organization_id, name, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(member.organization().id.as_str())
        .bind(name)
        .bind(member.user().id.as_str())
        .bind(sigra.now().as_millis())
        .execute(&mut *tx)
        .await?;
        let event = AuditEvent::host(HostAction::new("project.create")?)
            .actor(&member.user().id)
            .target_organization(&member.organization().id)
            .meta("project", id);
        record_host_event(sigra, &mut tx, event, request).await?;
        tx.commit().await
    }

    /// Deletes the admin's organization's project `id`, audited as `project.delete`; whether
    /// there was one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(
        sigra: &Sigra,
        admin: &OrgAdmin,
        id: &str,
        request: &RequestContext,
    ) -> Result<bool, Error> {
        let mut tx = sigra.db().begin_write().await?;
        let deleted = sqlx::query("DELETE FROM projects WHERE id = $1 AND organization_id = $2")
            .bind(id)
            .bind(admin.organization().id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 1 {
            let event = AuditEvent::host(HostAction::new("project.delete")?)
                .actor(&admin.member().user().id)
                .target_organization(&admin.organization().id)
                .meta("project", id.to_owned());
            record_host_event(sigra, &mut tx, event, request).await?;
        }
        tx.commit().await?;
        Ok(deleted == 1)
    }
}
