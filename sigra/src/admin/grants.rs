//! Platform admin grants, made and taken away by the operator (`server admin grant|revoke|list
//! EMAIL`), each audited as the system with the account as target. Only a confirmed account
//! can be granted: an address nobody proved cannot become an admin.

use crate::audit::{Action, AuditEvent};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::request::RequestContext;
use crate::users::{self, EmailAddress};

use super::Admin;

/// A platform admin as `server admin list` prints them.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Their address.
    pub email: String,
    /// Since when.
    pub granted_at: Timestamp,
}

/// What a grant or revocation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantChange {
    /// It changed the account's access.
    Done,
    /// The account already was (or was not) an admin: nothing changed, nothing audited.
    Unchanged,
    /// No account has the address.
    NoAccount,
}

impl Admin<'_> {
    /// Makes the confirmed account at `email` a platform admin, audited as `admin.grant`.
    ///
    /// # Errors
    /// A malformed address; `Unconfirmed` for an account whose address is not confirmed; the
    /// database failed.
    pub async fn grant(&self, email: &str, request: &RequestContext) -> Result<GrantChange> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let mut change = self.core.begin_change(request).await?;
        let Some(user) = users::store::find_id_by_email(&mut change, &email).await? else {
            return Ok(GrantChange::NoAccount);
        };
        let confirmed = users::store::account(&mut change, &user)
            .await?
            .is_some_and(|account| account.user.confirmed_at.is_some());
        if !confirmed {
            return Err(Error::Unconfirmed);
        }
        let now = change.now();
        if !store::insert(&mut change, &user, now).await? {
            return Ok(GrantChange::Unchanged);
        }
        let event = AuditEvent::new(Action::AdminGrant)
            .by_system()
            .target_user(&user);
        change.audit(event).await?;
        change.commit().await?;
        Ok(GrantChange::Done)
    }

    /// Takes the platform admin grant of the account at `email` away, audited as
    /// `admin.revoke`. Pages the admin has open stop working at their next request.
    ///
    /// # Errors
    /// A malformed address; the database failed.
    pub async fn revoke(&self, email: &str, request: &RequestContext) -> Result<GrantChange> {
        let email = EmailAddress::parse(email).map_err(Error::InvalidEmail)?;
        let mut change = self.core.begin_change(request).await?;
        let Some(user) = users::store::find_id_by_email(&mut change, &email).await? else {
            return Ok(GrantChange::NoAccount);
        };
        if !store::delete(&mut change, &user).await? {
            return Ok(GrantChange::Unchanged);
        }
        let event = AuditEvent::new(Action::AdminRevoke)
            .by_system()
            .target_user(&user);
        change.audit(event).await?;
        change.commit().await?;
        Ok(GrantChange::Done)
    }

    /// Every platform admin, by address.
    ///
    /// # Errors
    /// The database failed.
    pub async fn grants(&self) -> Result<Vec<Grant>> {
        let mut conn = self.core.db().acquire().await?;
        store::all(&mut conn).await
    }
}

pub(crate) mod store {
    //! The `platform_admin_grants` rows.

    use sqlx::AnyConnection;

    use super::Grant;
    use crate::clock::Timestamp;
    use crate::error::Result;
    use crate::users::UserId;

    pub(crate) async fn is_granted(conn: &mut AnyConnection, user: &UserId) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM platform_admin_grants WHERE user_id = $1")
                .bind(user.as_str())
                .fetch_one(conn)
                .await?;
        Ok(n > 0)
    }

    /// Whether a row was added (false: the account already had one).
    pub(super) async fn insert(
        conn: &mut AnyConnection,
        user: &UserId,
        now: Timestamp,
    ) -> Result<bool> {
        let added = sqlx::query(
            "INSERT INTO platform_admin_grants (user_id, granted_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(now.as_millis())
        .execute(conn)
        .await?
        .rows_affected();
        Ok(added == 1)
    }

    pub(super) async fn delete(conn: &mut AnyConnection, user: &UserId) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM platform_admin_grants WHERE user_id = $1")
            .bind(user.as_str())
            .execute(conn)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    #[derive(sqlx::FromRow)]
    struct Row {
        email: String,
        granted_at: i64,
    }

    pub(super) async fn all(conn: &mut AnyConnection) -> Result<Vec<Grant>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT u.email, g.granted_at FROM platform_admin_grants g \
             JOIN users u ON u.id = g.user_id ORDER BY u.email",
        )
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Grant {
                email: row.email,
                granted_at: Timestamp::from_millis(row.granted_at),
            })
            .collect())
    }
}
