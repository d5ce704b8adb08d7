//! Logout: ending a browser session together with queueing its back-channel logouts
//! ([`Store::end_session`]), the record of which clients took part in which session, and the
//! delivery queue (`oauth::BackChannelStore`).
//!
//! A queued logout's life, as the mail outbox's: `pending` (due at `next_attempt_at`; leased
//! to one node while `locked_until` lies ahead) → `delivered`, or back to `pending` later
//! (`mark_logout_retry`), or `failed`.

use diesel::prelude::*;
use identity::IdleTimeout;
use oauth::{BackChannelStore, ClientId, PendingLogout};
use tokens::TokenHash;

use crate::Store;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{backchannel_logouts, clients, session_clients, sessions};

const PENDING: &str = "pending";
pub(crate) const DELIVERED: &str = "delivered";
pub(crate) const FAILED: &str = "failed";

/// The clock, for `ProfileStore::delete_account`, whose trait passes no `now`: it dates the
/// logouts it queues (due at once).
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A session [`Store::end_session`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedSession {
    /// The session's public id (`sid`).
    pub session_id: String,
    pub account_id: String,
    /// Back-channel logouts queued for it.
    pub queued: usize,
}

/// Queues a back-channel logout for every client with a `backchannel_logout_uri` that took part
/// in one of `session_ids`, and forgets those sessions' participants. Returns how many were
/// queued. For a transaction that has just deleted the sessions.
pub(crate) fn queue_logouts_in(
    c: &mut DbConnection,
    session_ids: &[String],
    now: i64,
) -> Result<usize, StoreError> {
    if session_ids.is_empty() {
        return Ok(0);
    }
    let participants: Vec<(String, String, String)> = session_clients::table
        .inner_join(clients::table)
        .filter(session_clients::session_id.eq_any(session_ids))
        .filter(clients::backchannel_logout_uri.is_not_null())
        .order((session_clients::session_id, session_clients::client_id))
        .select((session_clients::session_id, session_clients::client_id, session_clients::subject))
        .load(c)?;
    for (session_id, client_id, subject) in &participants {
        diesel::insert_into(backchannel_logouts::table)
            .values((
                backchannel_logouts::id.eq(uuid::Uuid::new_v4().to_string()),
                backchannel_logouts::client_id.eq(client_id),
                backchannel_logouts::subject.eq(subject),
                backchannel_logouts::session_id.eq(session_id),
                backchannel_logouts::status.eq(PENDING),
                backchannel_logouts::attempts.eq(0),
                backchannel_logouts::next_attempt_at.eq(now),
                backchannel_logouts::created_at.eq(now),
            ))
            .execute(c)?;
    }
    diesel::delete(session_clients::table.filter(session_clients::session_id.eq_any(session_ids)))
        .execute(c)?;
    Ok(participants.len())
}

impl Store {
    /// Ends the session whose cookie secret hashes to `token_hash` and, in the same
    /// transaction, queues a back-channel logout for each client that took part in it
    /// (Back-Channel Logout 1.0 §2.5). `None` when there was no live session (ended before, or
    /// by a parallel request: the delete is the one-winner step). A session that had already
    /// lapsed at `now` (past its absolute expiry, or idle-expired under `idle`) is deleted
    /// with its participants and queues nothing: nobody signed out of it, and its portals were
    /// not told when it lapsed either.
    pub fn end_session(
        &self,
        token_hash: &TokenHash,
        now: i64,
        idle: &IdleTimeout,
    ) -> Result<Option<EndedSession>, StoreError> {
        self.transaction(|c| {
            let ended = diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash.as_str())))
                .returning((
                    sessions::id,
                    sessions::account_id,
                    sessions::persistent,
                    sessions::last_seen_at,
                    sessions::expires_at,
                ))
                .get_result::<(String, String, bool, i64, i64)>(c)
                .optional()?;
            let Some((session_id, account_id, persistent, last_seen_at, expires_at)) = ended else {
                return Ok(None);
            };
            if expires_at <= now || idle.is_expired(last_seen_at, persistent, now) {
                diesel::delete(session_clients::table.filter(session_clients::session_id.eq(&session_id)))
                    .execute(c)?;
                return Ok(None);
            }
            let queued = queue_logouts_in(c, std::slice::from_ref(&session_id), now)?;
            Ok(Some(EndedSession { session_id, account_id, queued }))
        })
    }

    /// A queued logout's status (`pending`, `delivered` or `failed`) and the deliveries tried,
    /// per client, for a session: for tests and operators.
    pub fn backchannel_status(&self, session_id: &str) -> Result<Vec<(String, String, u32)>, StoreError> {
        let rows = self.read(|c| {
            Ok(backchannel_logouts::table
                .filter(backchannel_logouts::session_id.eq(session_id))
                .order(backchannel_logouts::client_id)
                .select((
                    backchannel_logouts::client_id,
                    backchannel_logouts::status,
                    backchannel_logouts::attempts,
                ))
                .load::<(String, String, i32)>(c)?)
        })?;
        Ok(rows.into_iter().map(|(c, s, a)| (c, s, u32::try_from(a).unwrap_or(0))).collect())
    }
}

#[derive(Queryable)]
struct PendingRow {
    id: String,
    client_id: String,
    subject: String,
    session_id: String,
    attempts: i32,
    uri: Option<String>,
    alg: String,
}

impl From<PendingRow> for PendingLogout {
    fn from(r: PendingRow) -> Self {
        PendingLogout {
            id: r.id,
            client_id: ClientId::from_stored(r.client_id),
            uri: r.uri,
            alg: r.alg,
            subject: r.subject,
            session_id: r.session_id,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
        }
    }
}

impl BackChannelStore for Store {
    fn record_session_client(
        &self,
        session_id: &str,
        client_id: &ClientId,
        subject: &str,
        now: i64,
    ) -> Result<(), oauth::StoreError> {
        let inserted = self.transaction(|c| {
            Ok(diesel::insert_into(session_clients::table)
                .values((
                    session_clients::session_id.eq(session_id),
                    session_clients::client_id.eq(client_id.as_str()),
                    session_clients::subject.eq(subject),
                    session_clients::created_at.eq(now),
                ))
                .execute(c)?)
        });
        match inserted {
            // Recorded before: one row per client and session.
            Err(e) if e.is_unique_violation(&["session_clients_pkey", "session_clients.session_id"]) => {
                Ok(())
            }
            other => Ok(other.map(drop)?),
        }
    }

    /// As the mail outbox's `claim_due`: candidates are read, then leased one by one (in id
    /// order, so two PostgreSQL nodes never deadlock) with a conditional update that re-checks
    /// the lease; on SQLite the transaction is `IMMEDIATE`.
    fn claim_due_logouts(
        &self,
        now: i64,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<PendingLogout>, oauth::StoreError> {
        use backchannel_logouts as q;
        let lease_over = || q::locked_until.is_null().or(q::locked_until.le(now));
        let rows = self.write_transaction(|c| {
            let mut candidates: Vec<String> = q::table
                .filter(q::status.eq(PENDING))
                .filter(q::next_attempt_at.le(now))
                .filter(lease_over())
                .order((q::next_attempt_at, q::created_at, q::id))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select(q::id)
                .load(c)?;
            candidates.sort();
            let mut leased = Vec::with_capacity(candidates.len());
            for id in candidates {
                let won = diesel::update(
                    q::table
                        .find(&id)
                        .filter(q::status.eq(PENDING))
                        .filter(q::next_attempt_at.le(now))
                        .filter(lease_over()),
                )
                .set(q::locked_until.eq(now.saturating_add(lease_secs)))
                .execute(c)?;
                if won == 1 {
                    leased.push(id);
                }
            }
            Ok(q::table
                .inner_join(clients::table)
                .filter(q::id.eq_any(leased))
                .order((q::next_attempt_at, q::created_at, q::id))
                .select((
                    q::id,
                    q::client_id,
                    q::subject,
                    q::session_id,
                    q::attempts,
                    clients::backchannel_logout_uri,
                    clients::id_token_signed_response_alg,
                ))
                .load::<PendingRow>(c)?)
        })?;
        Ok(rows.into_iter().map(PendingLogout::from).collect())
    }

    fn mark_logout_delivered(&self, id: &str, now: i64) -> Result<(), oauth::StoreError> {
        use backchannel_logouts as q;
        self.transaction(|c| {
            Ok(diesel::update(q::table.find(id))
                .set((
                    q::status.eq(DELIVERED),
                    q::attempts.eq(q::attempts + 1),
                    q::delivered_at.eq(now),
                    q::locked_until.eq(None::<i64>),
                ))
                .execute(c)?)
        })?;
        Ok(())
    }

    fn mark_logout_retry(
        &self,
        id: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), oauth::StoreError> {
        use backchannel_logouts as q;
        self.transaction(|c| {
            Ok(diesel::update(q::table.find(id))
                .set((
                    q::attempts.eq(q::attempts + 1),
                    q::next_attempt_at.eq(next_attempt_at),
                    q::last_error.eq(error),
                    q::locked_until.eq(None::<i64>),
                ))
                .execute(c)?)
        })?;
        Ok(())
    }

    fn mark_logout_failed(&self, id: &str, error: &str, _now: i64) -> Result<(), oauth::StoreError> {
        use backchannel_logouts as q;
        self.transaction(|c| {
            Ok(diesel::update(q::table.find(id))
                .set((
                    q::status.eq(FAILED),
                    q::attempts.eq(q::attempts + 1),
                    q::last_error.eq(error),
                    q::locked_until.eq(None::<i64>),
                ))
                .execute(c)?)
        })?;
        Ok(())
    }
}
