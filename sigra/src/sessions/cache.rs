//! An in-process cache of session lookups, so a signed-in request usually skips the session
//! query. An entry is valid for one generation: this process's committed writes and every
//! other process's. On SQLite the others are the file's `PRAGMA data_version` (which moves when
//! another process, such as a second `serve` or an operator command, commits to the file),
//! asked on a connection kept for it, far cheaper than the session join. On PostgreSQL they
//! are the commit notifications this process has seen, counted by `db::write_watch` after a
//! round trip that concurrent checks share. Either way a change committed anywhere before a
//! check began is seen by it. Timeouts are still judged on every request against the clock;
//! only the row lookup is saved.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::crypto::TokenHash;
use crate::db::Generation;

use super::store::Found;

/// Entries kept at most; past this the cache starts over.
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
struct Entries {
    generation: Generation,
    by_token: HashMap<String, Found>,
}

/// Session rows by token digest, valid for one write generation.
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    entries: Mutex<Entries>,
}

impl SessionCache {
    /// The cached row for `token`, if it was stored at the current generation.
    pub fn get(&self, token: &TokenHash, generation: Generation) -> Option<Found> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.sync(generation);
        entries.by_token.get(token.as_str()).cloned()
    }

    /// Stores a row read from the database. `read_at` is the generation taken before the read;
    /// if a write committed since, the row may be stale and is not kept.
    pub fn put(
        &self,
        token: &TokenHash,
        found: Found,
        read_at: Generation,
        generation: Generation,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.sync(generation);
        if read_at != generation {
            return;
        }
        if entries.by_token.len() >= CAPACITY {
            entries.by_token.clear();
        }
        entries.by_token.insert(token.as_str().to_owned(), found);
    }
}

impl Entries {
    fn sync(&mut self, generation: Generation) {
        if self.generation != generation {
            self.by_token.clear();
            self.generation = generation;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::crypto::{IssuedToken, PresentedToken};
    use crate::sessions::{SessionId, SessionInfo, SessionKind};
    use crate::users::{EmailAddress, User, UserId};

    fn found() -> Found {
        Found {
            session: SessionInfo {
                id: SessionId("s".to_owned()),
                kind: SessionKind::Standard,
                created_at: Timestamp::from_millis(0),
                expires_at: Timestamp::from_millis(1),
                sudo_at: None,
                impersonator: None,
            },
            token: crate::sessions::store::TokenMatch::Current {
                issued_at: Timestamp::from_millis(0),
            },
            last_seen_at: Timestamp::from_millis(0),
            user: User {
                id: UserId::from_stored("u".to_owned()),
                email: EmailAddress::parse("u@example.com").expect("valid"),
                display_name: None,
                confirmed_at: None,
                created_at: Timestamp::from_millis(0),
                pending_email: None,
                must_change_password: false,
                deletion_scheduled_at: None,
            },
            upgrade_to: None,
            first_factor: None,
        }
    }

    fn at(ours: u64, others: u64) -> Generation {
        Generation { ours, others }
    }

    fn token() -> TokenHash {
        let issued = IssuedToken::generate();
        PresentedToken::parse(issued.expose())
            .expect("well-formed")
            .hash()
    }

    #[test]
    fn a_write_empties_the_cache() {
        let cache = SessionCache::default();
        let token = token();
        cache.put(&token, found(), at(7, 0), at(7, 0));
        assert!(cache.get(&token, at(7, 0)).is_some());
        assert!(
            cache.get(&token, at(8, 0)).is_none(),
            "a committed write invalidates everything"
        );
        assert!(
            cache.get(&token, at(7, 0)).is_none(),
            "and it does not come back"
        );
        cache.put(&token, found(), at(7, 0), at(7, 0));
        assert!(
            cache.get(&token, at(7, 1)).is_none(),
            "so does a write to the file by another process"
        );
    }

    #[test]
    fn a_row_read_before_a_write_is_not_kept() {
        let cache = SessionCache::default();
        let token = token();
        cache.put(&token, found(), at(3, 0), at(4, 0));
        assert!(cache.get(&token, at(4, 0)).is_none());
    }
}
