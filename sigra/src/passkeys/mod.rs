//! Passkeys (WebAuthn through webauthn-rs): registration under sudo (at most
//! `passkeys.max_per_user`), naming, passwordless log-in with discoverable credentials
//! (conditional UI included), and the passkey as a second factor. Ceremony state is kept in the
//! database ([`ceremony`]), single use and short-lived. A signature counter that fails to move
//! forward is handled as `passkeys.sign_count_policy` says, with an audit row either way.

mod ceremony;
mod labels;
mod store;

use sqlx::AnyConnection;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
    WebauthnBuilder, WebauthnError, WebauthnResult,
};

use webauthn_rs_proto::ResidentKeyRequirement;

use crate::audit::{Action, AuditEvent};
use crate::auth::{FirstFactor, LoginMethod};
use crate::change::Change;
use crate::clock::Timestamp;
use crate::config::{PasskeyConfig, SignCountPolicy};
use crate::crypto::b64url;
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::mfa::TrustedBrowsers;
use crate::plumbing::Core;
use crate::request::RequestContext;
use crate::sessions::{
    AccountOwner, Authenticated, NewSession, PendingMfa, RenewedToken, SessionKind, Sudo,
};
use crate::users::UserId;

use ceremony::Kind;

/// Longest passkey name kept, in characters.
const MAX_NAME_CHARS: usize = 60;

/// One of the user's passkeys, as the settings page lists it.
#[derive(Clone, Debug)]
pub struct PasskeySummary {
    /// Its id (for renaming and deleting).
    pub id: String,
    /// The name the user gave it, or one from its provider or device.
    pub name: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was last used to log in.
    pub last_used_at: Option<Timestamp>,
    /// Whether it is the account's last second factor: removing it needs a passkey answer
    /// (see [`Passkeys::delete_passkey`]).
    pub last_second_factor: bool,
}

/// The browser's answer to a ceremony started by [`Passkeys::start_passkey_confirmation`]
/// (or the second-factor step): the ceremony id and the `PublicKeyCredential` as JSON.
#[derive(Clone, Copy)]
pub struct PasskeyAnswer<'a> {
    /// The ceremony id.
    pub ceremony: &'a str,
    /// The credential, as JSON.
    pub response: &'a str,
}

impl std::fmt::Debug for PasskeyAnswer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasskeyAnswer([redacted])")
    }
}

/// A started ceremony: its id, to send back with the browser's answer, and the options for
/// `navigator.credentials.create()` / `.get()` as JSON (binary fields in base64url).
#[derive(Clone, Debug)]
pub struct PasskeyChallenge {
    /// The ceremony id.
    pub ceremony: String,
    /// The `publicKey` options, as JSON.
    pub options: String,
}

/// A passwordless log-in's checked answer: whose passkey it was.
pub(crate) struct ProvedPasskey {
    pub user: UserId,
    pub email: crate::users::EmailAddress,
    /// The passkey's id, for the audit row.
    pub credential: String,
}

/// The relying party, built from the configuration.
pub(crate) fn relying_party(config: &PasskeyConfig, app_name: &str) -> Result<Webauthn> {
    WebauthnBuilder::new(&config.rp_id, &config.origin)
        .map(|builder| builder.rp_name(app_name))
        .and_then(WebauthnBuilder::build)
        .map_err(|e| {
            Error::Internal(format!("the passkey relying party is misconfigured: {e}").into())
        })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(Box::new(e)))
}

fn user_handle(user: &UserId) -> Result<Uuid> {
    Uuid::parse_str(user.as_str()).map_err(|e| Error::Internal(Box::new(e)))
}

/// A name as the user typed it: trimmed, control characters dropped, at most 60 characters;
/// `None` when nothing is left.
fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Passkeys: `sigra.passkeys()`.
#[derive(Clone, Copy)]
pub struct Passkeys<'a> {
    pub(crate) core: &'a Core,
    pub(crate) relying_party: &'a Webauthn,
    pub(crate) trusted: &'a TrustedBrowsers,
}

impl Passkeys<'_> {
    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self, current: &Authenticated) -> Result<Vec<PasskeySummary>> {
        let user = &current.user().id;
        let mut conn = self.core.db().acquire().await?;
        let rows = store::for_user(&mut conn, user).await?;
        let last_second_factor = crate::mfa::second_factor_count_on(&mut conn, user).await? == 1;
        Ok(rows
            .into_iter()
            .map(|row| PasskeySummary {
                id: row.id,
                name: row.name,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                last_second_factor,
            })
            .collect())
    }

    /// Starts registering a passkey for the signed-in user (the ones it has are excluded, so
    /// an authenticator is not registered twice).
    ///
    /// # Errors
    /// `TooManyPasskeys` at the limit; the database failed.
    pub async fn start_passkey_registration(&self, sudo: &Sudo) -> Result<PasskeyChallenge> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let mut conn = self.core.db().acquire().await?;
        let existing = store::for_user(&mut conn, user).await?;
        let max = self.core.config().passkeys.max_per_user;
        if existing.len() >= usize::try_from(max).unwrap_or(usize::MAX) {
            return Err(Error::TooManyPasskeys { max });
        }
        let exclude = existing
            .iter()
            .map(|row| row.passkey.0.cred_id().clone())
            .collect();
        let email = current.user().email.as_str();
        let (mut options, state) = self
            .relying_party
            .start_passkey_registration(user_handle(user)?, email, email, Some(exclude))
            .map_err(|e| Error::Internal(Box::new(e)))?;
        // Passwordless log-in finds the credential on the authenticator, so it must be
        // discoverable (webauthn-rs asks for a server-side credential by default).
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        let ceremony = ceremony::begin(
            &mut conn,
            Kind::Register,
            Some(user),
            &state,
            self.core.now(),
        )
        .await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: to_json(&options.public_key)?,
        })
    }

    /// Finishes a registration with the browser's answer (`PublicKeyCredential` JSON). Without
    /// a name, the passkey is named after its provider (AAGUID) or the device.
    ///
    /// # Errors
    /// `PasskeyRejected` for a bad, replayed, expired or foreign answer; `TooManyPasskeys`.
    pub async fn finish_passkey_registration(
        &self,
        sudo: &Sudo,
        ceremony_id: &str,
        response: &str,
        name: Option<&str>,
        request: &RequestContext,
    ) -> Result<PasskeySummary> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(response).map_err(|_| Error::PasskeyRejected)?;
        let mut change = self.core.begin_change(request).await?;
        let now = change.now();
        let Some(state) = ceremony::take::<PasskeyRegistration>(
            &mut change,
            ceremony_id,
            Kind::Register,
            Some(user),
            now,
        )
        .await?
        else {
            return Err(Error::PasskeyRejected);
        };
        let passkey = match self
            .relying_party
            .finish_passkey_registration(&credential, &state)
        {
            Ok(passkey) => passkey,
            Err(error) => {
                tracing::debug!(%error, "passkey registration refused");
                // The ceremony is spent either way.
                change.commit().await?;
                return Err(Error::PasskeyRejected);
            }
        };
        let max = self.core.config().passkeys.max_per_user;
        if crate::mfa::passkey_count_on(&mut change, user).await? >= max {
            return Err(Error::TooManyPasskeys { max });
        }
        let aaguid = labels::aaguid_of(credential.response.attestation_object.as_ref());
        let name = name.and_then(clean_name).unwrap_or_else(|| {
            labels::default_name(aaguid.as_deref(), request.user_agent.as_deref())
        });
        let id = uuid::Uuid::now_v7().to_string();
        let new = store::NewPasskey {
            id: &id,
            user,
            credential_id: &b64url(passkey.cred_id().as_ref()),
            passkey: &passkey,
            name: &name,
            aaguid: aaguid.as_deref(),
            now,
        };
        if !store::insert(&mut change, &new).await? {
            return Err(Error::PasskeyRejected);
        }
        let mut event = AuditEvent::new(Action::PasskeyRegister)
            .actor(user)
            .meta("credential", id.clone());
        if let Some(aaguid) = &aaguid {
            event = event.meta("aaguid", aaguid.clone());
        }
        change.audit(event).await?;
        change
            .mail(
                &current.user().email,
                Message::PasskeyAdded { name: name.clone() },
            )
            .await?;
        let last_second_factor = crate::mfa::second_factor_count_on(&mut change, user).await? == 1;
        change.commit().await?;
        Ok(PasskeySummary {
            id,
            name,
            created_at: now,
            last_used_at: None,
            last_second_factor,
        })
    }

    /// Renames one of the user's passkeys.
    ///
    /// # Errors
    /// `PasskeyRejected` when the user has no such passkey or the name is empty.
    pub async fn rename_passkey(
        &self,
        sudo: &Sudo,
        id: &str,
        name: &str,
        request: &RequestContext,
    ) -> Result<()> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let name = clean_name(name).ok_or(Error::PasskeyRejected)?;
        let mut change = self.core.begin_change(request).await?;
        if !store::rename(&mut change, id, user, &name).await? {
            return Err(Error::PasskeyRejected);
        }
        let event = AuditEvent::new(Action::PasskeyRename)
            .actor(user)
            .meta("credential", id.to_owned());
        change.audit(event).await?;
        change.commit().await
    }

    /// Deletes one of the user's passkeys. Removing the account's last second factor (its
    /// only passkey, with no authenticator app) needs a current factor, as turning the app off
    /// does: a passkey's `answer` to [`Passkeys::start_passkey_confirmation`]. Then trusted
    /// browsers are forgotten and the owner is told by mail that two-factor authentication is
    /// off.
    ///
    /// # Errors
    /// `PasskeyRejected` when the user has no such passkey or the answer is refused;
    /// `SecondFactorRequired` for the last second factor without an answer.
    pub async fn delete_passkey(
        &self,
        sudo: &Sudo,
        id: &str,
        answer: Option<PasskeyAnswer<'_>>,
        request: &RequestContext,
    ) -> Result<()> {
        let current = sudo.authenticated();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        let confirmed = match answer {
            Some(answer) => {
                if !self
                    .second_factor_matches(&mut change, user, answer.ceremony, answer.response)
                    .await?
                {
                    // The ceremony is spent either way.
                    change.commit().await?;
                    return Err(Error::PasskeyRejected);
                }
                true
            }
            None => false,
        };
        if !store::delete(&mut change, id, user).await? {
            return Err(Error::PasskeyRejected);
        }
        let capabilities = &self.core.config().capabilities;
        let last =
            !crate::mfa::has_usable_second_factor_on(&mut change, user, capabilities).await?;
        if last && !confirmed {
            return Err(Error::SecondFactorRequired);
        }
        let event = AuditEvent::new(Action::PasskeyDelete)
            .actor(user)
            .meta("credential", id.to_owned())
            .meta("last_second_factor", last);
        change.audit(event).await?;
        if last {
            crate::mfa::forget_trusted_browsers_on(&mut change, user).await?;
            let message = Message::MfaDisabled {
                reset_url: self.core.url(crate::http::pages::RESET_PASSWORD),
            };
            change.mail(&current.user().email, message).await?;
        }
        change.commit().await
    }

    /// Starts a ceremony in which one of the signed-in user's passkeys confirms a change (the
    /// removal of the last second factor).
    ///
    /// # Errors
    /// `PasskeyRejected` when the user has none; the database failed.
    pub async fn start_passkey_confirmation(&self, sudo: &Sudo) -> Result<PasskeyChallenge> {
        self.start_assertion(&sudo.user().id, Kind::SecondFactor)
            .await
    }

    /// Starts a passwordless log-in: any discoverable passkey for this site may answer (the
    /// browser offers them, also as autofill in the email field).
    ///
    /// # Errors
    /// The database failed.
    pub async fn start_passkey_log_in(&self) -> Result<PasskeyChallenge> {
        let (options, state) = self
            .relying_party
            .start_discoverable_authentication()
            .map_err(|e| Error::Internal(Box::new(e)))?;
        let mut conn = self.core.db().acquire().await?;
        let ceremony =
            ceremony::begin(&mut conn, Kind::LogIn, None, &state, self.core.now()).await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: to_json(&options.public_key)?,
        })
    }

    /// Logs in with a passkey: a user-verified passkey is both factors, so this starts a full
    /// session under a new token (ending the one the browser had).
    ///
    /// # Errors
    /// `PasskeyRejected` for a bad, unknown, replayed or expired answer, or one the
    /// sign-count policy refuses; the database failed.
    #[tracing::instrument(name = "auth.passkey", skip_all, err(level = "debug"))]
    pub async fn log_in_with_passkey(
        &self,
        ceremony_id: &str,
        response: &str,
        replacing: Option<&Authenticated>,
        request: &RequestContext,
    ) -> Result<NewSession> {
        let change = self.core.begin_change(request).await?;
        let (mut change, proved) = self
            .check_passkey_log_in(change, ceremony_id, response, request)
            .await?;
        let factor = FirstFactor {
            user: &proved.user,
            email: &proved.email,
            method: LoginMethod::Passkey,
            kind: SessionKind::Standard,
            replacing,
            trusted_browser: None,
            detail: AuditEvent::new(Action::LoginSuccess).meta("credential", proved.credential),
        };
        let session = self
            .core
            .complete_log_in(self.trusted, &mut change, factor)
            .await?;
        change.commit().await?;
        Ok(session)
    }

    /// Checks a passwordless log-in's answer on `change` (the ceremony is spent either way; a
    /// refusal commits that and is audited). On success the change goes back to the caller,
    /// which completes the log-in its own way (a browser session, or API tokens).
    pub(crate) async fn check_passkey_log_in<'c>(
        &self,
        mut change: Change<'c>,
        ceremony_id: &str,
        response: &str,
        request: &RequestContext,
    ) -> Result<(Change<'c>, ProvedPasskey)> {
        let now = change.now();
        let state = ceremony::take::<DiscoverableAuthentication>(
            &mut change,
            ceremony_id,
            Kind::LogIn,
            None,
            now,
        )
        .await?;
        let credential = serde_json::from_str::<PublicKeyCredential>(response).ok();
        let found = match (&credential, state.is_some()) {
            (Some(credential), true) => self.passkey_of(&mut change, credential).await?,
            _ => None,
        };
        let (Some(credential), Some(state), Some(row)) = (credential, state, found) else {
            change.commit().await?;
            return self
                .core
                .refuse(LoginMethod::Passkey, None, "passkey_rejected", request)
                .await;
        };
        let outcome = self.relying_party.finish_discoverable_authentication_v2(
            &credential,
            state,
            &row.passkey.0,
        );
        if !self.after_passkey_use(&mut change, &row, outcome).await? {
            change.commit().await?;
            return self
                .core
                .refuse(
                    LoginMethod::Passkey,
                    Some(&row.user_id),
                    "passkey_rejected",
                    request,
                )
                .await;
        }
        let email = crate::users::store::email_of(&mut change, &row.user_id)
            .await?
            .ok_or(Error::PasskeyRejected)?;
        let proved = ProvedPasskey {
            user: row.user_id,
            email,
            credential: row.id,
        };
        Ok((change, proved))
    }

    /// Starts the second factor with one of the user's passkeys.
    ///
    /// # Errors
    /// `PasskeyRejected` when the user has none; the database failed.
    pub async fn start_passkey_second_factor(
        &self,
        pending: &PendingMfa,
    ) -> Result<PasskeyChallenge> {
        self.start_assertion(&pending.user().id, Kind::SecondFactor)
            .await
    }

    /// Starts re-authenticating the signed-in user with one of their passkeys, for sudo (the
    /// way in for an account without a password, and for anyone who prefers it).
    ///
    /// # Errors
    /// `PasskeyRejected` when the user has none; the database failed.
    pub async fn start_passkey_sudo(&self, current: &Authenticated) -> Result<PasskeyChallenge> {
        self.start_assertion(&current.user().id, Kind::Sudo).await
    }

    /// Opens sudo on this session with a passkey's answer to [`Passkeys::start_passkey_sudo`].
    ///
    /// # Errors
    /// `PasskeyRejected` for a bad, replayed, expired or foreign answer; the database failed.
    pub async fn enter_sudo_with_passkey(
        &self,
        owner: &AccountOwner,
        ceremony_id: &str,
        response: &str,
        request: &RequestContext,
    ) -> Result<RenewedToken> {
        let current = owner.authenticated();
        let user = &current.user().id;
        let mut change = self.core.begin_change(request).await?;
        if !self
            .own_passkey_matches(&mut change, user, ceremony_id, response, Kind::Sudo)
            .await?
        {
            // The ceremony is spent either way.
            change.commit().await?;
            return Err(Error::PasskeyRejected);
        }
        let renewed = self
            .core
            .grant_sudo(&mut change, current, "passkey", None)
            .await?;
        change.commit().await?;
        Ok(renewed)
    }

    /// A ceremony of `kind` any of `user`'s passkeys may answer, bound to `user`.
    async fn start_assertion(&self, user: &UserId, kind: Kind) -> Result<PasskeyChallenge> {
        let mut conn = self.core.db().acquire().await?;
        let passkeys: Vec<Passkey> = store::for_user(&mut conn, user)
            .await?
            .into_iter()
            .map(|row| row.passkey.0)
            .collect();
        if passkeys.is_empty() {
            return Err(Error::PasskeyRejected);
        }
        let (options, state) = self
            .relying_party
            .start_passkey_authentication(&passkeys)
            .map_err(|e| Error::Internal(Box::new(e)))?;
        let ceremony =
            ceremony::begin(&mut conn, kind, Some(user), &state, self.core.now()).await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: to_json(&options.public_key)?,
        })
    }

    /// Checks a passkey answer given as the second factor (on the caller's transaction).
    pub(crate) async fn second_factor_matches(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        ceremony_id: &str,
        response: &str,
    ) -> Result<bool> {
        self.own_passkey_matches(change, user, ceremony_id, response, Kind::SecondFactor)
            .await
    }

    /// Checks an answer to a ceremony of `kind` started for one of `user`'s passkeys.
    async fn own_passkey_matches(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        ceremony_id: &str,
        response: &str,
        kind: Kind,
    ) -> Result<bool> {
        let now = change.now();
        let state =
            ceremony::take::<PasskeyAuthentication>(change, ceremony_id, kind, Some(user), now)
                .await?;
        let Some(credential) = serde_json::from_str::<PublicKeyCredential>(response).ok() else {
            return Ok(false);
        };
        let (Some(state), Some(row)) = (state, self.passkey_of(change, &credential).await?) else {
            return Ok(false);
        };
        if &row.user_id != user {
            return Ok(false);
        }
        let outcome = self
            .relying_party
            .finish_passkey_authentication(&credential, &state);
        self.after_passkey_use(change, &row, outcome).await
    }

    async fn passkey_of(
        &self,
        conn: &mut AnyConnection,
        credential: &PublicKeyCredential,
    ) -> Result<Option<store::Row>> {
        let Ok((handle, credential_id)) = self
            .relying_party
            .identify_discoverable_authentication(credential)
        else {
            return store::by_credential(conn, &b64url(credential.get_credential_id())).await;
        };
        let row = store::by_credential(conn, &b64url(credential_id)).await?;
        // The user handle the authenticator returned must be the owner's.
        Ok(row.filter(|row| row.user_id.as_str() == handle.to_string()))
    }

    /// Applies the outcome of an assertion: on success the updated counter is stored; on a
    /// counter that did not move forward (the signature itself was valid) the policy decides.
    /// Returns whether the use is accepted.
    async fn after_passkey_use(
        &self,
        change: &mut Change<'_>,
        row: &store::Row,
        outcome: WebauthnResult<AuthenticationResult>,
    ) -> Result<bool> {
        let now = change.now();
        match outcome {
            Ok(result) => {
                let mut passkey = row.passkey.0.clone();
                passkey.update_credential(&result);
                store::record_use(
                    change,
                    &row.id,
                    &passkey,
                    result.counter().max(row.sign_count),
                    now,
                )
                .await?;
                Ok(true)
            }
            Err(WebauthnError::CredentialPossibleCompromise) => {
                let policy = self.core.config().passkeys.sign_count_policy;
                // The server noticed it; who presented the credential is exactly what is
                // in doubt.
                let event = AuditEvent::new(Action::PasskeySignCountRegression)
                    .by_system()
                    .target_user(&row.user_id)
                    .meta("credential", row.id.clone())
                    .meta("policy", policy.as_str());
                change.audit(event).await?;
                tracing::warn!(passkey_id = %row.id, policy = policy.as_str(), "passkey signature counter did not increase");
                match policy {
                    SignCountPolicy::Warn => {
                        store::record_use(change, &row.id, &row.passkey.0, row.sign_count, now)
                            .await?;
                        Ok(true)
                    }
                    SignCountPolicy::RequireReauth => Ok(false),
                    SignCountPolicy::Revoke => {
                        store::delete(change, &row.id, &row.user_id).await?;
                        Ok(false)
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, "passkey assertion refused");
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_are_trimmed_cleaned_and_bounded() {
        assert_eq!(
            clean_name("  Work laptop \n").as_deref(),
            Some("Work laptop")
        );
        assert_eq!(clean_name("a\u{0}b").as_deref(), Some("ab"));
        assert_eq!(clean_name("   "), None);
        assert_eq!(
            clean_name(&"x".repeat(100)).map(|n| n.chars().count()),
            Some(60)
        );
    }
}
