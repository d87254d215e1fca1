//! Database-backed sessions: the cookie carries 32 random bytes, the table keeps their SHA-256.
//! Idle and absolute timeouts are enforced on every request; a log-in always gets a new token.

mod cache;
pub mod device;
mod manage;
mod owner;
mod policy;
pub(crate) mod store;
mod sudo;

use std::fmt;
use std::time::Duration;

use crate::audit::{Action, AuditEvent};
use crate::auth::LoginMethod;
use crate::change::Change;
use crate::clock::Timestamp;
use crate::crypto::{IssuedToken, PresentedToken};
use crate::db::Generation;
use crate::error::Result;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::users::{User, UserId};

pub(crate) use cache::SessionCache;
pub use manage::{SecurityEvent, SessionSummary};
pub use owner::AccountOwner;
pub use policy::{ExpiredBy, SessionPolicy, SessionTimes, Verdict};
pub use sudo::Sudo;

crate::db::stored_enum! {
    /// Standard sessions end with the browser or after the idle/absolute timeouts; remember-me
    /// sessions survive a browser restart until their own end.
    pub enum SessionKind {
        /// A normal log-in.
        Standard = "standard",
        /// "Remember me" was ticked.
        RememberMe = "remember_me",
        /// The password was right and the second factor is still due: this session can do
        /// nothing but finish the log-in (or log out), and ends after five minutes.
        MfaPending = "mfa_pending",
        /// A platform admin working as this user: 15 minutes idle, 30 in all, and no security
        /// changes (see [`AccountOwner`]).
        Impersonation = "impersonation",
    }
}

/// A session's public id (not its token): safe to show and to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// A session id as the browser sent it back (from a list of sessions); checked against
    /// the owner when used.
    pub fn from_client(text: &str) -> Self {
        Self(text.chars().take(64).collect())
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a session is, without its secret.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    /// The public id.
    pub id: SessionId,
    /// Standard or remember-me.
    pub kind: SessionKind,
    /// When it was created (the log-in).
    pub created_at: Timestamp,
    /// Its absolute end.
    pub expires_at: Timestamp,
    /// When the password was last re-entered on it (sudo mode).
    pub sudo_at: Option<Timestamp>,
    /// Who is really behind it, when it is an impersonation.
    pub impersonator: Option<Impersonator>,
}

/// The platform admin behind an impersonation session, and the admin's own session it was
/// started from (the one stopping goes back to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impersonator {
    /// The admin.
    pub user_id: UserId,
    /// The admin's own session.
    pub session_id: SessionId,
}

/// Proof that the request carries a live session. Only the session check builds one, so a
/// function that takes `&Authenticated` cannot be reached by an anonymous caller.
#[derive(Clone, Debug)]
pub struct Authenticated {
    user: User,
    session: SessionInfo,
}

impl Authenticated {
    /// The signed-in user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The session the request rides on.
    pub fn session(&self) -> &SessionInfo {
        &self.session
    }

    /// The platform admin working as this user, when the session is an impersonation.
    pub fn impersonator(&self) -> Option<&Impersonator> {
        self.session.impersonator.as_ref()
    }
}

/// Proof that the request carries a session waiting for its second factor. Only the session
/// check builds one; the second-factor step takes it, and nothing else accepts it.
#[derive(Clone, Debug)]
pub struct PendingMfa {
    user: User,
    session: SessionInfo,
    upgrade_to: SessionKind,
    first_factor: Option<LoginMethod>,
}

impl PendingMfa {
    /// The user who gave the right password.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The pending session.
    pub fn session(&self) -> &SessionInfo {
        &self.session
    }

    /// The kind of session the log-in becomes once the second factor is given.
    pub fn upgrade_to(&self) -> SessionKind {
        self.upgrade_to
    }

    /// How the first factor was proved (absent only on sessions older than the column).
    pub fn first_factor(&self) -> Option<LoginMethod> {
        self.first_factor
    }
}

/// A session just created: the token goes into the cookie once and is then forgotten.
#[derive(Debug)]
pub struct NewSession {
    /// The public id.
    pub id: SessionId,
    /// The bearer token for the cookie.
    pub token: IssuedToken,
    /// Standard or remember-me.
    pub kind: SessionKind,
    /// How long the browser should keep the cookie (`None`: until it closes).
    pub cookie_max_age: Option<Duration>,
}

impl NewSession {
    /// Whether this session waits for the second factor (send the browser to `/users/mfa`).
    pub fn needs_second_factor(&self) -> bool {
        self.kind == SessionKind::MfaPending
    }
}

/// A new token for a session that goes on: rolled (remember-me), or replaced on sudo or a
/// password change. The browser's cookie must be replaced with it.
#[derive(Debug)]
pub struct RenewedToken {
    /// The bearer token for the cookie.
    pub token: IssuedToken,
    /// How long the browser should keep the cookie (`None`: until it closes).
    pub cookie_max_age: Option<Duration>,
}

#[cfg(test)]
impl NewSession {
    pub(crate) fn for_tests(
        token: IssuedToken,
        kind: SessionKind,
        cookie_max_age: Option<Duration>,
    ) -> Self {
        Self {
            id: SessionId::generate(),
            token,
            kind,
            cookie_max_age,
        }
    }
}

/// The outcome of checking a presented session token.
#[derive(Debug)]
pub enum SessionCheck {
    /// A live session, and the token that now replaces the presented one when it was due to
    /// roll (hand it to the browser).
    Active(Authenticated, Option<RenewedToken>),
    /// A session waiting for its second factor.
    PendingMfa(PendingMfa),
    /// The token matched a session that has now ended (and was deleted).
    Expired(ExpiredBy),
    /// No session has this token.
    Unknown,
}

/// Writes the `admin.impersonation.timeout_expire` row of each impersonation that ran out
/// without a request coming back to it, before the cleanup in `conn`'s transaction deletes it
/// (one that is checked first is audited by the check, and is gone by then).
pub(crate) async fn audit_abandoned_impersonations(
    conn: &mut sqlx::AnyConnection,
    now: Timestamp,
) -> Result<()> {
    let idle_since = Timestamp::from_millis(
        now.as_millis()
            .saturating_sub(crate::clock::millis_of(policy::IMPERSONATION_IDLE_TIMEOUT)),
    );
    for ended in store::ended_impersonations(conn, now, idle_since).await? {
        let user = UserId::from_stored(ended.user_id);
        let event = AuditEvent::new(Action::ImpersonationTimeout)
            .actor(&UserId::from_stored(ended.impersonator_user_id))
            .effective_user(&user)
            .target_user(&user)
            .session(&ended.id)
            .meta(
                "reason",
                if ended.absolute == 1 {
                    "absolute"
                } else {
                    "idle"
                },
            );
        crate::audit::record(conn, now, event, &RequestContext::default()).await?;
        store::delete(conn, &SessionId(ended.id)).await?;
    }
    Ok(())
}

/// Session checks, the user's sessions page, and sudo: `sigra.sessions()`.
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub(crate) core: &'a Core,
}

/// Starting sessions: a step every log-in method shares, owned here.
impl Core {
    /// Creates a session for `user` as part of `change`, with its audit row.
    pub(crate) async fn create_session(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        kind: SessionKind,
    ) -> Result<NewSession> {
        self.insert_session(change, user, kind, None, None).await
    }

    /// Creates a session that waits for the second factor and then becomes `upgrade_to`;
    /// it remembers the `first_factor` for the log-in's audit row.
    pub(crate) async fn create_pending_session(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        upgrade_to: SessionKind,
        first_factor: LoginMethod,
    ) -> Result<NewSession> {
        let pending = Some((upgrade_to, first_factor));
        self.insert_session(change, user, SessionKind::MfaPending, pending, None)
            .await
    }

    /// Creates an impersonation session: `impersonator` working as `user`.
    pub(crate) async fn create_impersonation_session(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        impersonator: &Impersonator,
    ) -> Result<NewSession> {
        let kind = SessionKind::Impersonation;
        self.insert_session(change, user, kind, None, Some(impersonator))
            .await
    }

    async fn insert_session(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        kind: SessionKind,
        pending: Option<(SessionKind, LoginMethod)>,
        impersonator: Option<&Impersonator>,
    ) -> Result<NewSession> {
        let now = change.now();
        let policy = self.session_policy();
        let id = SessionId::generate();
        let token = IssuedToken::generate();
        let expires_at = policy.expires_at(kind, now);
        let row = store::NewRow {
            id: &id,
            user_id: user,
            token_hash: &token.hash(),
            kind,
            upgrade_to: pending.map(|(upgrade_to, _)| upgrade_to),
            first_factor: pending.map(|(_, first_factor)| first_factor),
            impersonator,
            now,
            expires_at,
        };
        let request = change.request().clone();
        let location = request
            .ip
            .and_then(|ip| self.geoip().and_then(|geo| geo.locate(ip)));
        store::insert(change, row, &request, location.as_ref()).await?;
        let event = match impersonator {
            Some(admin) => AuditEvent::new(Action::SessionCreate)
                .actor(&admin.user_id)
                .effective_user(user),
            None => AuditEvent::new(Action::SessionCreate).actor(user),
        }
        .session(id.as_str())
        .meta("kind", kind.as_str());
        change.audit(event).await?;
        Ok(NewSession {
            id,
            token,
            kind,
            cookie_max_age: policy.cookie_max_age(kind, expires_at, now),
        })
    }

    /// Gives a live session a new token as part of `change` (sudo, a password change): the
    /// old token stops working at once, as every earlier one, and the session goes on.
    pub(crate) async fn renew_token(
        &self,
        change: &mut Change<'_>,
        session: &SessionInfo,
    ) -> Result<RenewedToken> {
        let now = change.now();
        let token = IssuedToken::generate();
        store::replace_token(change, &session.id, &token.hash(), now).await?;
        Ok(RenewedToken {
            token,
            cookie_max_age: self.session_policy().cookie_max_age(
                session.kind,
                session.expires_at,
                now,
            ),
        })
    }
}

impl Sessions<'_> {
    /// The rules for session lifetimes.
    pub fn session_policy(&self) -> SessionPolicy {
        self.core.session_policy()
    }

    /// Checks a session token from a cookie: finds the session, applies the timeouts, deletes
    /// it when it has ended, records activity at most once per touch interval, and rolls a
    /// remember-me token that is due (the new one comes back with the answer). A token that a
    /// rolled one replaced is accepted only for its short grace.
    ///
    /// # Errors
    /// The database failed.
    #[tracing::instrument(name = "session.authenticate", skip_all, fields(session_id))]
    pub async fn authenticate_session(&self, token: &PresentedToken) -> Result<SessionCheck> {
        let hash = token.hash();
        let (found, read_at) = self.find_session(&hash).await?;
        let Some(mut found) = found else {
            return Ok(SessionCheck::Unknown);
        };
        tracing::Span::current().record("session_id", found.session.id.as_str());
        let now = self.core.now();
        if matches!(found.token, store::TokenMatch::Previous { until } if until <= now) {
            return Ok(SessionCheck::Unknown);
        }
        let policy = self.core.session_policy();
        let times = SessionTimes {
            kind: found.session.kind,
            last_seen_at: found.last_seen_at,
            expires_at: found.session.expires_at,
        };
        match policy.evaluate(times, now) {
            Verdict::Expired(by) => {
                let mut tx = self.core.db().begin_write().await?;
                let deleted = store::delete(&mut tx, &found.session.id).await?;
                if let (true, Some(admin)) = (deleted, &found.session.impersonator) {
                    let reason = match by {
                        ExpiredBy::Idle => "idle",
                        ExpiredBy::Absolute => "absolute",
                    };
                    let event = AuditEvent::new(Action::ImpersonationTimeout)
                        .actor(&admin.user_id)
                        .effective_user(&found.user.id)
                        .target_user(&found.user.id)
                        .session(found.session.id.as_str())
                        .meta("reason", reason);
                    crate::audit::record(&mut tx, now, event, &RequestContext::default()).await?;
                }
                tx.commit().await?;
                tracing::info!(reason = ?by, "session expired");
                Ok(SessionCheck::Expired(by))
            }
            Verdict::Active { .. } if found.session.kind == SessionKind::MfaPending => {
                Ok(SessionCheck::PendingMfa(PendingMfa {
                    upgrade_to: found.upgrade_to.unwrap_or(SessionKind::Standard),
                    first_factor: found.first_factor,
                    user: found.user,
                    session: found.session,
                }))
            }
            Verdict::Active { touch } => {
                if let Some(admin) = &found.session.impersonator {
                    if !self.impersonator_holds_grant(admin).await? {
                        self.end_ungranted_impersonation(&found, admin).await?;
                        return Ok(SessionCheck::Unknown);
                    }
                }
                let renewed = match found.token {
                    store::TokenMatch::Current { issued_at }
                        if policy.token_due(found.session.kind, issued_at, now) =>
                    {
                        self.roll_token(&found.session, &hash, now).await?
                    }
                    _ => None,
                };
                if touch && renewed.is_none() {
                    // A write like any other, so other processes' caches hear of the new
                    // last-seen time and judge idleness on it.
                    let mut tx = self.core.db().begin_write().await?;
                    store::touch(&mut tx, &found.session.id, now).await?;
                    tx.commit().await?;
                    found.last_seen_at = now;
                    // Stored under the generation taken before the row was read, so a
                    // revocation that committed since is never cached as a live session.
                    if let Some(cache) = self.core.session_cache() {
                        let generation = self.core.db().generation().await;
                        cache.put(&hash, found.clone(), read_at, generation);
                    }
                }
                Ok(SessionCheck::Active(
                    Authenticated {
                        user: found.user,
                        session: found.session,
                    },
                    renewed,
                ))
            }
        }
    }

    /// Whether the admin behind an impersonation still holds the platform admin grant: an
    /// impersonation lasts only as long as the grant (one read per request of one).
    async fn impersonator_holds_grant(&self, admin: &Impersonator) -> Result<bool> {
        let mut conn = self.core.db().acquire().await?;
        crate::admin::grants::store::is_granted(&mut conn, &admin.user_id).await
    }

    /// Ends an impersonation whose admin lost the grant, audited as its stop.
    async fn end_ungranted_impersonation(
        &self,
        found: &store::Found,
        admin: &Impersonator,
    ) -> Result<()> {
        let mut tx = self.core.db().begin_write().await?;
        if store::delete(&mut tx, &found.session.id).await? {
            let event = AuditEvent::new(Action::ImpersonationStop)
                .actor(&admin.user_id)
                .effective_user(&found.user.id)
                .target_user(&found.user.id)
                .session(found.session.id.as_str())
                .meta("restored", false)
                .meta("reason", "grant_revoked");
            crate::audit::record(&mut tx, self.core.now(), event, &RequestContext::default())
                .await?;
        }
        tx.commit().await
    }

    /// Rolls a session's token: the presented one stays accepted for the grace window (requests
    /// of the same page already in flight carry it). `None` when another request rolled it
    /// first; its answer hands the browser the new token.
    async fn roll_token(
        &self,
        session: &SessionInfo,
        presented: &crate::crypto::TokenHash,
        now: Timestamp,
    ) -> Result<Option<RenewedToken>> {
        let policy = self.core.session_policy();
        let token = IssuedToken::generate();
        let mut tx = self.core.db().begin_write().await?;
        let rolled = store::roll_token(
            &mut tx,
            &session.id,
            presented,
            &token.hash(),
            now,
            policy.previous_token_until(now),
        )
        .await?;
        tx.commit().await?;
        Ok(rolled.then(|| RenewedToken {
            token,
            cookie_max_age: policy.cookie_max_age(session.kind, session.expires_at, now),
        }))
    }

    /// The session row for a token digest, from the cache (when it is on and current) or the
    /// database, with the write generation taken before it was read.
    async fn find_session(
        &self,
        hash: &crate::crypto::TokenHash,
    ) -> Result<(Option<store::Found>, Generation)> {
        let cache = self.core.session_cache();
        let read_at = match cache {
            Some(_) => self.core.db().generation().await,
            None => Generation::default(),
        };
        if let Some(found) = cache.and_then(|c| c.get(hash, read_at)) {
            metrics::counter!("sigra_session_cache_total", "outcome" => "hit").increment(1);
            return Ok((Some(found), read_at));
        }
        if cache.is_some() {
            metrics::counter!("sigra_session_cache_total", "outcome" => "miss").increment(1);
        }
        let found = {
            let mut conn = self.core.db().acquire().await?;
            store::find_by_token_hash(&mut conn, hash).await?
        };
        #[cfg(feature = "testing")]
        if let Some(hold) = &self.core.test_hooks.after_session_read {
            hold().await;
        }
        if let (Some(cache), Some(found)) = (cache, &found) {
            cache.put(
                hash,
                found.clone(),
                read_at,
                self.core.db().generation().await,
            );
        }
        Ok((found, read_at))
    }
}
