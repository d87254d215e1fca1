//! "Trust this browser": after a second factor, the browser may carry a signed cookie that
//! skips the second factor (never the password) for `mfa.trust_duration`. The cookie names the
//! user and the account's trust epoch; bumping the epoch forgets every trusted browser at once.

use std::time::Duration;

use crate::change::Change;
use crate::clock::Timestamp;
use crate::crypto::SigningKey;
use crate::error::Result;
use crate::users::UserId;

use super::store;

/// The cookie's name (`__Host-`: Secure, `Path=/`, no `Domain`).
pub const TRUSTED_BROWSER_COOKIE: &str = "__Host-sigra_trusted_browser";

const VERSION: &str = "v1";

/// The trusted-browser cookies: the key that signs them and how long they last. Only log-in
/// (which honours them) and the second-factor step (which issues them) hold it.
pub(crate) struct TrustedBrowsers {
    key: SigningKey,
    ttl: Duration,
}

impl TrustedBrowsers {
    pub(crate) fn new(key: SigningKey, ttl: Duration) -> Self {
        Self { key, ttl }
    }

    /// Whether the browser's `cookie` vouches for `user` now (right user, current epoch,
    /// not expired).
    pub(crate) async fn vouches_for(
        &self,
        change: &mut Change<'_>,
        user: &UserId,
        cookie: Option<&str>,
    ) -> Result<bool> {
        let Some(cookie) = cookie else {
            return Ok(false);
        };
        let epoch = store::state(change, user).await?.trust_epoch;
        Ok(vouches_for(
            &self.key,
            cookie,
            user,
            epoch,
            change.now(),
            self.ttl,
        ))
    }

    /// A cookie value that vouches for `user` from now on, until the epoch moves.
    pub(crate) async fn issue(&self, change: &mut Change<'_>, user: &UserId) -> Result<String> {
        let epoch = store::state(change, user).await?.trust_epoch;
        Ok(issue(&self.key, user, epoch, change.now()))
    }
}

/// The signed cookie value for `user` at `epoch`, issued `now`.
fn issue(key: &SigningKey, user: &UserId, epoch: i64, now: Timestamp) -> String {
    key.sign(&format!("{VERSION}.{user}.{epoch}.{}", now.as_millis()))
}

/// Whether `cookie` vouches for `user` at `epoch`, issued less than `ttl` before `now`.
fn vouches_for(
    key: &SigningKey,
    cookie: &str,
    user: &UserId,
    epoch: i64,
    now: Timestamp,
    ttl: Duration,
) -> bool {
    let Some(message) = key.verify(cookie) else {
        return false;
    };
    let mut parts = message.split('.');
    let (Some(VERSION), Some(for_user), Some(for_epoch), Some(issued), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(issued) = issued.parse::<i64>() else {
        return false;
    };
    let issued = Timestamp::from_millis(issued);
    for_user == user.as_str()
        && for_epoch.parse::<i64>().ok() == Some(epoch)
        && issued <= now
        && now.since(issued) < ttl
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn key() -> SigningKey {
        SecretKey::parse(&SecretKey::generate_text())
            .expect("key")
            .derive("trusted-browser")
    }

    fn user(n: u8) -> UserId {
        UserId::from_stored(format!("0190f000-0000-7000-8000-00000000000{n}"))
    }

    #[test]
    fn a_cookie_vouches_for_its_user_and_epoch_until_it_expires() {
        let key = key();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let cookie = issue(&key, &user(1), 3, now);
        assert!(vouches_for(&key, &cookie, &user(1), 3, now, 30 * DAY));
        assert!(vouches_for(
            &key,
            &cookie,
            &user(1),
            3,
            now.plus(29 * DAY),
            30 * DAY
        ));
        assert!(
            !vouches_for(&key, &cookie, &user(1), 3, now.plus(30 * DAY), 30 * DAY),
            "expired"
        );
        assert!(
            !vouches_for(&key, &cookie, &user(2), 3, now, 30 * DAY),
            "another user"
        );
        assert!(
            !vouches_for(&key, &cookie, &user(1), 4, now, 30 * DAY),
            "a newer epoch"
        );
        assert!(
            !vouches_for(&self::key(), &cookie, &user(1), 3, now, 30 * DAY),
            "another key"
        );
        let forged = cookie.replace(".3.", ".4.");
        assert!(
            !vouches_for(&key, &forged, &user(1), 4, now, 30 * DAY),
            "edited"
        );
        assert!(!vouches_for(&key, "garbage", &user(1), 3, now, 30 * DAY));
    }
}
