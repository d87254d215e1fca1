//! The tamper-evident trail. Rows are written as they happen, in the transaction of the change
//! they record, and sealed shortly after by the job runner (the `audit_seal` job, every
//! minute): each sealed row gets the next sequence number and an HMAC-SHA256 over its content
//! and the previous row's MAC, keyed by a key derived from `SIGRA_SECRET_KEY`. Sealing after
//! commit keeps the hot path free of a global lock; the price is a window of about a minute in
//! which a new row is not yet covered.
//!
//! [`AuditChain::verify`] walks the sealed rows in sequence and recomputes every MAC: an edited
//! row, a deleted one, rows swapped, or a cut tail (the head remembers the last sequence number
//! and MAC) are reported with the first place the chain breaks. Someone who can write to the
//! database but does not hold the secret key cannot re-seal what they changed. The retention
//! cleanup deletes a prefix of the chain and moves its anchor (the last deleted row's sequence
//! number and MAC), so a pruned trail still verifies from there.

use serde_json::Value;
use sqlx::AnyConnection;

use crate::crypto::SigningKey;
use crate::error::{Error, Result};
use crate::plumbing::Core;

/// Rows sealed per transaction.
const SEAL_BATCH: i64 = 1_000;
/// Rows read per query while verifying.
const VERIFY_BATCH: i64 = 1_000;
/// What the chain key is derived for.
const KEY_PURPOSE: &str = "audit-chain";

/// The audit chain: `sigra.audit_chain()`.
#[derive(Clone, Copy)]
pub struct AuditChain<'a> {
    pub(crate) core: &'a Core,
}

/// What [`AuditChain::verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows whose MAC was recomputed and matched.
    pub verified: u64,
    /// Rows written and not yet sealed (not covered until the next seal).
    pub unsealed: u64,
    /// Rows pruned by the retention before the anchor (not checked).
    pub pruned_through: i64,
    /// The first place the chain breaks, if it does.
    pub broken: Option<ChainBreak>,
}

impl ChainReport {
    /// Whether every sealed row verified.
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Where and how the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number expected there.
    pub seq: i64,
    /// The row found there, if any.
    pub event_id: Option<String>,
    /// What is wrong.
    pub problem: ChainProblem,
}

/// How a chain breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainProblem {
    /// The row's content (or the row before it) is not what was sealed.
    Altered,
    /// A row is missing: the next row has a later sequence number.
    Missing,
    /// The sealed rows end before the last one sealed: the tail was deleted.
    Truncated,
    /// The chain was sealed with another secret key (or the head was edited).
    OtherKey,
}

#[derive(sqlx::FromRow)]
struct Head {
    sealed_seq: i64,
    sealed_mac: String,
    anchor_seq: i64,
    anchor_mac: String,
    key_check: String,
}

/// The content of a row as sealed, in a fixed order.
#[derive(sqlx::FromRow)]
struct SealedRow {
    id: String,
    occurred_at: i64,
    action: String,
    outcome: String,
    actor_type: String,
    actor_id: Option<String>,
    effective_user_id: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    organization_id: Option<String>,
    session_id: Option<String>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    metadata: String,
    chain_seq: Option<i64>,
    chain_mac: Option<String>,
}

const ROW_COLUMNS: &str = "id, occurred_at, action, outcome, actor_type, actor_id, \
     effective_user_id, target_type, target_id, organization_id, session_id, ip_address, \
     user_agent, request_id, metadata, chain_seq, chain_mac";

impl SealedRow {
    /// The MAC of this row at `seq`, chained from `previous`. The content is a JSON array, so
    /// no two different rows encode alike.
    fn mac(&self, key: &SigningKey, seq: i64, previous: &str) -> String {
        let content = Value::from(vec![
            Value::from(seq),
            Value::from(previous),
            Value::from(self.id.as_str()),
            Value::from(self.occurred_at),
            Value::from(self.action.as_str()),
            Value::from(self.outcome.as_str()),
            Value::from(self.actor_type.as_str()),
            Value::from(self.actor_id.clone()),
            Value::from(self.effective_user_id.clone()),
            Value::from(self.target_type.clone()),
            Value::from(self.target_id.clone()),
            Value::from(self.organization_id.clone()),
            Value::from(self.session_id.clone()),
            Value::from(self.ip_address.clone()),
            Value::from(self.user_agent.clone()),
            Value::from(self.request_id.clone()),
            Value::from(self.metadata.as_str()),
        ]);
        key.tag(&content.to_string())
    }
}

impl Core {
    fn chain_key(&self) -> SigningKey {
        self.config().secret_key.derive(KEY_PURPOSE)
    }
}

/// A fingerprint of the chain key, kept in the head so a key change is named as such.
fn key_check(key: &SigningKey) -> String {
    key.tag("audit-chain-key-check")
}

async fn head(conn: &mut AnyConnection) -> Result<Head> {
    Ok(sqlx::query_as(
        "SELECT sealed_seq, sealed_mac, anchor_seq, anchor_mac, key_check FROM audit_chain WHERE id = 1",
    )
    .fetch_one(conn)
    .await?)
}

impl AuditChain<'_> {
    /// Seals every row written since the last seal; how many. Safe to run from several
    /// processes at once: each batch takes the head's row lock first.
    ///
    /// # Errors
    /// `Internal` when the chain was sealed with another secret key (sealing more would
    /// hide it); the database failed.
    pub async fn seal(&self) -> Result<u64> {
        let key = self.core.chain_key();
        let check = key_check(&key);
        let mut sealed = 0;
        loop {
            let mut tx = self.core.db().begin_write().await?;
            // Taking the head's row lock first serialises sealers (PostgreSQL); a SQLite
            // write transaction is already alone.
            sqlx::query("UPDATE audit_chain SET sealed_seq = sealed_seq WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            let mut head = head(&mut tx).await?;
            if head.key_check.is_empty() {
                head.key_check.clone_from(&check);
            } else if head.key_check != check {
                return Err(Error::Internal(
                    "the audit chain was sealed with another SIGRA_SECRET_KEY".into(),
                ));
            }
            let rows: Vec<SealedRow> = sqlx::query_as(&format!(
                "SELECT {ROW_COLUMNS} FROM audit_events WHERE chain_seq IS NULL ORDER BY id LIMIT $1"
            ))
            .bind(SEAL_BATCH)
            .fetch_all(&mut *tx)
            .await?;
            let batch = rows.len();
            for row in rows {
                let seq = head.sealed_seq + 1;
                let mac = row.mac(&key, seq, &head.sealed_mac);
                sqlx::query("UPDATE audit_events SET chain_seq = $1, chain_mac = $2 WHERE id = $3")
                    .bind(seq)
                    .bind(&mac)
                    .bind(&row.id)
                    .execute(&mut *tx)
                    .await?;
                head.sealed_seq = seq;
                head.sealed_mac = mac;
            }
            sqlx::query(
                "UPDATE audit_chain SET sealed_seq = $1, sealed_mac = $2, key_check = $3 WHERE id = 1",
            )
            .bind(head.sealed_seq)
            .bind(&head.sealed_mac)
            .bind(&head.key_check)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            sealed += batch as u64;
            if i64::try_from(batch).unwrap_or(i64::MAX) < SEAL_BATCH {
                return Ok(sealed);
            }
        }
    }

    /// Recomputes the chain from its anchor to its head. Reads only.
    ///
    /// # Errors
    /// The database failed.
    pub async fn verify(&self) -> Result<ChainReport> {
        let key = self.core.chain_key();
        let mut conn = self.core.db().acquire().await?;
        let head = head(&mut conn).await?;
        let unsealed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE chain_seq IS NULL")
                .fetch_one(&mut *conn)
                .await?;
        let mut report = ChainReport {
            verified: 0,
            unsealed: u64::try_from(unsealed).unwrap_or_default(),
            pruned_through: head.anchor_seq,
            broken: None,
        };
        let broken = |seq, event_id, problem| {
            Some(ChainBreak {
                seq,
                event_id,
                problem,
            })
        };
        if !head.key_check.is_empty() && head.key_check != key_check(&key) {
            report.broken = broken(head.anchor_seq + 1, None, ChainProblem::OtherKey);
            return Ok(report);
        }
        let (mut seq, mut previous) = (head.anchor_seq, head.anchor_mac);
        loop {
            let rows: Vec<SealedRow> = sqlx::query_as(&format!(
                "SELECT {ROW_COLUMNS} FROM audit_events WHERE chain_seq > $1 \
                 ORDER BY chain_seq LIMIT $2"
            ))
            .bind(seq)
            .bind(VERIFY_BATCH)
            .fetch_all(&mut *conn)
            .await?;
            let batch = rows.len();
            for row in rows {
                let expected = seq + 1;
                if row.chain_seq != Some(expected) {
                    report.broken = broken(expected, None, ChainProblem::Missing);
                    return Ok(report);
                }
                let mac = row.mac(&key, expected, &previous);
                if row.chain_mac.as_deref() != Some(mac.as_str()) {
                    report.broken = broken(expected, Some(row.id), ChainProblem::Altered);
                    return Ok(report);
                }
                report.verified += 1;
                (seq, previous) = (expected, mac);
            }
            if i64::try_from(batch).unwrap_or(i64::MAX) < VERIFY_BATCH {
                break;
            }
        }
        if seq != head.sealed_seq || previous != head.sealed_mac {
            report.broken = broken(seq + 1, None, ChainProblem::Truncated);
        }
        Ok(report)
    }
}

/// Deletes the chain's prefix of rows that happened before `before`, at most `limit` of them,
/// and moves the anchor past them; how many went. Unsealed rows stay (they are the newest).
pub(crate) async fn prune_prefix(conn: &mut AnyConnection, before: i64, limit: i64) -> Result<u64> {
    // The chain's prefix ends before the first sealed row that must be kept.
    let first_kept: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(chain_seq) FROM audit_events WHERE chain_seq IS NOT NULL AND occurred_at >= $1",
    )
    .bind(before)
    .fetch_one(&mut *conn)
    .await?;
    let head = head(&mut *conn).await?;
    let through = first_kept.map_or(head.sealed_seq, |seq| seq - 1);
    let through = through.min(head.anchor_seq + limit);
    if through <= head.anchor_seq {
        return Ok(0);
    }
    let anchor_mac: Option<String> =
        sqlx::query_scalar("SELECT chain_mac FROM audit_events WHERE chain_seq = $1")
            .bind(through)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    let Some(anchor_mac) = anchor_mac else {
        // The row is gone already: the chain is broken, and pruning would hide where.
        return Err(Error::Internal(
            "the audit chain is missing the row retention would anchor on; run `server audit verify`".into(),
        ));
    };
    let deleted = sqlx::query("DELETE FROM audit_events WHERE chain_seq <= $1")
        .bind(through)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query("UPDATE audit_chain SET anchor_seq = $1, anchor_mac = $2 WHERE id = 1")
        .bind(through)
        .bind(anchor_mac)
        .execute(&mut *conn)
        .await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    /// The MAC the first row chains from (the head's initial `sealed_mac`).
    const GENESIS: &str = "";

    fn row(metadata: &str) -> SealedRow {
        SealedRow {
            id: "e1".to_owned(),
            occurred_at: 1,
            action: "auth.logout".to_owned(),
            outcome: "success".to_owned(),
            actor_type: "user".to_owned(),
            actor_id: Some("u1".to_owned()),
            effective_user_id: Some("u1".to_owned()),
            target_type: None,
            target_id: None,
            organization_id: None,
            session_id: None,
            ip_address: None,
            user_agent: None,
            request_id: None,
            metadata: metadata.to_owned(),
            chain_seq: None,
            chain_mac: None,
        }
    }

    #[test]
    fn a_mac_covers_the_content_the_place_and_the_row_before() {
        let secret = SecretKey::parse(&SecretKey::generate_text()).expect("key");
        let key = secret.derive(KEY_PURPOSE);
        let sealed = row("{}").mac(&key, 1, GENESIS);
        assert_eq!(row("{}").mac(&key, 1, GENESIS), sealed, "deterministic");
        assert_ne!(row("{\"a\":1}").mac(&key, 1, GENESIS), sealed, "content");
        assert_ne!(row("{}").mac(&key, 2, GENESIS), sealed, "place");
        assert_ne!(row("{}").mac(&key, 1, "x"), sealed, "the row before");
        let mut moved = row("{}");
        moved.target_id = moved.actor_id.take();
        assert_ne!(
            moved.mac(&key, 1, GENESIS),
            sealed,
            "a value moved to another column"
        );
        let other = SecretKey::parse(&SecretKey::generate_text()).expect("key");
        assert_ne!(
            row("{}").mac(&other.derive(KEY_PURPOSE), 1, GENESIS),
            sealed,
            "the key"
        );
    }
}
