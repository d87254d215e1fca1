//! Personal API tokens: made under sudo (shown once, mailed about), checked on every bearer
//! request, listed with cursor paging, revoked one at a time or all at once. A token carries
//! scopes from the [`ScopeRegistry`]; a request authenticated by one gets an [`ApiTokenAuth`],
//! the proof the scope checks read, which can never stand in for a session.

mod format;
pub mod scopes;
pub(crate) mod store;

use std::time::Duration;

pub use format::{NewApiToken, PresentedApiToken};
pub use scopes::{ScopeRegistry, Scopes};

use crate::audit::{Action, AuditEvent};
use crate::clock::{millis_of, Timestamp};
use crate::db::paging::{page_of, Cursor, Page, PageRequest};
use crate::error::{ApiTokenProblem, Error, Result};
use crate::http::pages;
use crate::mail::Message;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{Authenticated, Sudo};
use crate::users::{self, User};

/// Longest name kept, in characters.
const MAX_NAME_CHARS: usize = 255;
/// Last use is written at most this often.
const TOUCH_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// What the creation form asks for.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// A name to recognise it by.
    pub name: String,
    /// The scopes it carries.
    pub scopes: Vec<String>,
    /// When it stops working (`None`: never, where the configuration allows).
    pub expires_at: Option<Timestamp>,
}

/// A token as its owner sees it (never the secret).
#[derive(Clone, Debug)]
pub struct ApiTokenSummary {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Scopes,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
    /// When it was last used (to within five minutes).
    pub last_used_at: Option<Timestamp>,
}

/// A token just created: the secret, to show once, and what it is.
#[derive(Debug)]
pub struct CreatedApiToken {
    /// The token itself.
    pub token: NewApiToken,
    /// Its description.
    pub summary: ApiTokenSummary,
}

/// Proof that the request carries a live API token: its owner, its id and its scopes. Only
/// [`ApiTokens::verify`] builds one, and no service that changes credentials accepts it.
#[derive(Clone, Debug)]
pub struct ApiTokenAuth {
    user: User,
    token_id: String,
    scopes: Scopes,
}

impl ApiTokenAuth {
    /// The token's owner.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The token's id.
    pub fn token_id(&self) -> &str {
        &self.token_id
    }

    /// Its scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }
}

/// Personal API tokens: `sigra.api_tokens()`.
#[derive(Clone, Copy)]
pub struct ApiTokens<'a> {
    pub(crate) core: &'a Core,
    pub(crate) registry: &'a ScopeRegistry,
}

fn summary(row: store::TokenRow) -> ApiTokenSummary {
    ApiTokenSummary {
        scopes: Scopes::from_stored(&row.scopes),
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
    }
}

impl ApiTokens<'_> {
    /// The scopes tokens may carry.
    pub fn registry(&self) -> &ScopeRegistry {
        self.registry
    }

    /// Makes a token for the sudo session's user: checked name, scopes and expiry; an audit
    /// row and a mail to the owner in the same change.
    ///
    /// # Errors
    /// `InvalidApiToken` (name, scopes, expiry), `UnregisteredScopes`; the database failed.
    pub async fn create(
        &self,
        sudo: &Sudo,
        wanted: TokenRequest,
        request: &RequestContext,
    ) -> Result<CreatedApiToken> {
        let user = sudo.user();
        let name: String = wanted
            .name
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if name.is_empty() {
            return Err(Error::InvalidApiToken(ApiTokenProblem::NameRequired));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::InvalidApiToken(ApiTokenProblem::NameTooLong));
        }
        let scopes = self.registry.validate(&wanted.scopes)?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        self.check_expiry(wanted.expires_at, now)?;
        let token = NewApiToken::generate(&self.core.config().api_tokens.prefix);
        let id = uuid::Uuid::now_v7().to_string();
        let stored_scopes = scopes.to_string();
        store::insert(
            &mut change,
            store::NewRow {
                id: &id,
                user_id: &user.id,
                token_hash: &token.hash(),
                name: &name,
                scopes: &stored_scopes,
                now,
                expires_at: wanted.expires_at,
            },
        )
        .await?;
        let mut event = AuditEvent::new(Action::ApiTokenCreate)
            .actor(&user.id)
            .session(sudo.session().id.as_str())
            .meta("credential", id.clone())
            .meta("name", name.clone())
            .meta("scopes", stored_scopes.clone());
        if let Some(at) = wanted.expires_at {
            event = event.meta("expires_at", at.to_string());
        }
        change.audit(event).await?;
        let message = Message::ApiTokenCreated {
            name: name.clone(),
            scopes: stored_scopes,
            tokens_url: self.core.url(pages::API_TOKENS),
        };
        change.mail(&user.email, message).await?;
        change.commit().await?;
        Ok(CreatedApiToken {
            token,
            summary: ApiTokenSummary {
                id,
                name,
                scopes,
                created_at: now,
                expires_at: wanted.expires_at,
                last_used_at: None,
            },
        })
    }

    fn check_expiry(&self, expires_at: Option<Timestamp>, now: Timestamp) -> Result<()> {
        let config = &self.core.config().api_tokens;
        let refuse = |problem| Err(Error::InvalidApiToken(problem));
        match (expires_at, config.max_lifetime) {
            (None, Some(_)) => refuse(ApiTokenProblem::ExpiryRequired),
            (None, None) if config.require_expiry => refuse(ApiTokenProblem::ExpiryRequired),
            (Some(at), _) if at <= now => refuse(ApiTokenProblem::ExpiryInPast),
            (Some(at), Some(max)) if at > now.plus(max) => refuse(ApiTokenProblem::ExpiryTooLong {
                max_days: max.as_secs() / 86_400,
            }),
            _ => Ok(()),
        }
    }

    /// Checks a presented token: known, not revoked, not expired. Refusals are audited
    /// (`api.token_verify.failure` with the reason); a success writes the last use at most
    /// every five minutes.
    ///
    /// # Errors
    /// `TokenRejected` for every refusal; the database failed.
    pub async fn verify(
        &self,
        presented: &PresentedApiToken,
        request: &RequestContext,
    ) -> Result<ApiTokenAuth> {
        let now = self.core.now();
        let (row, account) = {
            let mut conn = self.core.db().acquire().await?;
            let row = store::find_by_hash(&mut conn, &presented.hash()).await?;
            let account = match &row {
                Some(row) => users::store::account(&mut conn, &row.user_id).await?,
                None => None,
            };
            (row, account)
        };
        let refusal = match (&row, &account) {
            (None, _) | (_, None) => Some("invalid"),
            (Some(row), _) if row.revoked_at.is_some() => Some("revoked"),
            (Some(row), _) if row.expires_at.is_some_and(|at| at <= now) => Some("expired"),
            _ => None,
        };
        let owner = account.as_ref().map(|a| a.user.id.clone());
        let (Some(row), Some(account), None) = (row, account, refusal) else {
            let mut event = AuditEvent::new(Action::ApiTokenVerifyFailure)
                .meta("reason", refusal.unwrap_or("invalid"));
            if let Some(owner) = &owner {
                event = event.target_user(owner);
            }
            self.core.audit_alone(event, request).await?;
            return Err(Error::TokenRejected);
        };
        if row
            .last_used_at
            .is_none_or(|at| now.since(at) >= TOUCH_INTERVAL)
        {
            let mut conn = self.core.db().acquire().await?;
            let not_since = Timestamp::from_millis(now.as_millis() - millis_of(TOUCH_INTERVAL));
            store::touch(&mut conn, &row.id, now, not_since).await?;
        }
        Ok(ApiTokenAuth {
            user: account.user,
            scopes: Scopes::from_stored(&row.scopes),
            token_id: row.id,
        })
    }

    /// Records a refusal of a bearer that has our prefix but not our shape (a truncated or
    /// mistyped token): `api.token_verify.failure` with reason `invalid`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn refuse_malformed(&self, request: &RequestContext) -> Result<()> {
        let event = AuditEvent::new(Action::ApiTokenVerifyFailure).meta("reason", "invalid");
        self.core.audit_alone(event, request).await
    }

    /// The user's tokens that are not revoked (expired ones included), newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        current: &Authenticated,
        page: &PageRequest,
    ) -> Result<Page<ApiTokenSummary>> {
        let size = page.size();
        let mut conn = self.core.db().acquire().await?;
        let rows = store::list_unrevoked(
            &mut conn,
            &current.user().id,
            page.after().as_ref(),
            size + 1,
        )
        .await?;
        let page = page_of(rows, size, |row| Cursor {
            created_at: row.created_at,
            id: row.id.clone(),
        });
        Ok(Page {
            items: page.items.into_iter().map(summary).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Revokes one of the sudo session user's tokens.
    ///
    /// # Errors
    /// `NotFound` when the user has no such live token; the database failed.
    pub async fn revoke(&self, sudo: &Sudo, id: &str, request: &RequestContext) -> Result<()> {
        let user = &sudo.user().id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        if !store::revoke(&mut change, user, id, now).await? {
            return Err(Error::NotFound);
        }
        let event = AuditEvent::new(Action::ApiTokenRevoke)
            .actor(user)
            .session(sudo.session().id.as_str())
            .meta("credential", id.to_owned())
            .meta("by", "session");
        change.audit(event).await?;
        change.commit().await
    }

    /// Revokes every token of the sudo session's user; how many.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revoke_all(&self, sudo: &Sudo, request: &RequestContext) -> Result<u64> {
        let user = &sudo.user().id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let count = store::revoke_all(&mut change, user, now).await?;
        let event = AuditEvent::new(Action::ApiTokenRevokeAll)
            .actor(user)
            .session(sudo.session().id.as_str())
            .meta("count", count);
        change.audit(event).await?;
        change.commit().await?;
        Ok(count)
    }

    /// What the calling token is (its own description, never the others').
    ///
    /// # Errors
    /// `TokenRejected` if it was revoked meanwhile; the database failed.
    pub async fn describe_itself(&self, caller: &ApiTokenAuth) -> Result<ApiTokenSummary> {
        let mut conn = self.core.db().acquire().await?;
        store::find_owned(&mut conn, &caller.user.id, &caller.token_id)
            .await?
            .filter(|row| row.revoked_at.is_none())
            .map(summary)
            .ok_or(Error::TokenRejected)
    }

    /// The calling token revokes itself (a job cleaning up after itself).
    ///
    /// # Errors
    /// `TokenRejected` if it was revoked meanwhile; the database failed.
    pub async fn revoke_itself(
        &self,
        caller: &ApiTokenAuth,
        request: &RequestContext,
    ) -> Result<()> {
        let user = &caller.user.id;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        if !store::revoke(&mut change, user, &caller.token_id, now).await? {
            return Err(Error::TokenRejected);
        }
        let event = AuditEvent::new(Action::ApiTokenRevoke)
            .actor(user)
            .meta("credential", caller.token_id.clone())
            .meta("by", "itself");
        change.audit(event).await?;
        change.commit().await
    }
}
