//! Operator queries for the admin API: search accounts, list an account's sessions, end one
//! session, every session of one account, or every session of every account (ASVS 5.0 7.4.5),
//! filter the audit trail, replace a client. They serve operators, not citizens, so they are
//! the store's own methods rather than domain traits.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use identity::{AccountId, AuditEvent, IdleTimeout, Session};

use crate::Store;
use crate::error::StoreError;
use crate::schema::{accounts, audit_events, sessions};

/// How many sessions [`Store::end_all_sessions`] ends per transaction: small enough that a
/// batch holds the writer for milliseconds, large enough that a million sessions take a few
/// thousand transactions.
pub const SESSIONS_PER_BATCH: i64 = 500;

/// The longest rest between two batches on SQLite (see [`Store::end_all_sessions`]).
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// What ending several sessions at once did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndedSessions {
    /// Sessions ended.
    pub sessions: usize,
    /// Back-channel logouts queued for the portals that took part in them.
    pub logouts_queued: usize,
}

/// Which audit events to list; every set field must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    /// An exact kind, e.g. `account.deleted`, or a prefix ending in `.` (`admin.`).
    pub kind: Option<String>,
    /// Events with `at >= since`.
    pub since: Option<i64>,
    /// Events with `at < until`.
    pub until: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Ids of the accounts whose email contains `text` (any case), ordered by email.
    pub fn search_accounts(&self, text: &str, limit: i64, offset: i64) -> Result<Vec<AccountId>, StoreError> {
        let pattern = format!("%{}%", escape_like(&text.trim().to_lowercase()));
        let ids: Vec<String> = self.read(|c| {
            Ok(accounts::table
                .filter(accounts::email.like(pattern).escape('\\'))
                .order(accounts::email)
                .limit(limit)
                .offset(offset)
                .select(accounts::id)
                .load(c)?)
        })?;
        Ok(ids.into_iter().map(AccountId::from_stored).collect())
    }

    /// The account's sessions that have not expired (nor idle-expired under `idle`) at `now`,
    /// newest first.
    pub fn sessions_of(
        &self,
        account: &AccountId,
        now: i64,
        idle: &IdleTimeout,
    ) -> Result<Vec<Session>, StoreError> {
        let rows = self.read(|c| {
            Ok(sessions::table
                .filter(sessions::account_id.eq(account.as_str()))
                .filter(sessions::expires_at.gt(now))
                .order(sessions::created_at.desc())
                .select(crate::accounts::SessionRow::as_select())
                .load(c)?)
        })?;
        let sessions = rows.into_iter().map(Session::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(sessions.into_iter().filter(|s| !idle.is_expired(s.last_seen_at, s.persistent, now)).collect())
    }

    /// Ends the session with this public id (an operator's revocation) and queues its
    /// back-channel logouts in the same transaction; `None` when there is none, else its account.
    pub fn end_session_by_id(&self, id: &str, now: i64) -> Result<Option<AccountId>, StoreError> {
        self.transaction(|c| {
            let ended = diesel::delete(sessions::table.find(id))
                .returning(sessions::account_id)
                .get_result::<String>(c)
                .optional()?;
            let Some(account) = ended else {
                return Ok(None);
            };
            crate::logout::queue_logouts_in(c, &[id.to_owned()], now)?;
            Ok(Some(AccountId::from_stored(account)))
        })
    }

    /// Ends every live session of `account` (an operator's "sign out everywhere"), queueing the
    /// back-channel logouts of each in the same transaction, as [`Store::end_session_by_id`]
    /// does for one (Back-Channel Logout 1.0 §2.5). Unlike a lock (`revoke_account_access`)
    /// it revokes no token and leaves the account free to sign in again. An account's sessions
    /// are few, so this is one transaction.
    pub fn end_sessions_of(&self, account: &AccountId, now: i64) -> Result<EndedSessions, StoreError> {
        self.transaction(|c| {
            // The delete is the one-winner step: a session a parallel sign-out ended first is
            // not returned here, so its logouts are not queued twice.
            let ended: Vec<String> = diesel::delete(
                sessions::table
                    .filter(sessions::account_id.eq(account.as_str()))
                    .filter(sessions::expires_at.gt(now)),
            )
            .returning(sessions::id)
            .get_results(c)?;
            let logouts_queued = crate::logout::queue_logouts_in(c, &ended, now)?;
            Ok(EndedSessions { sessions: ended.len(), logouts_queued })
        })
    }

    /// Ends every session that was live at `started` and had begun by then, of every account
    /// (an incident response), queueing each one's back-channel logouts as a single end does.
    ///
    /// The work is done `batch` sessions per transaction, so that a large table never holds
    /// SQLite's single writer (or a PostgreSQL transaction) for long: sign-ins, token
    /// refreshes and logouts interleave between batches. So the call is not atomic: a session
    /// begun after `started` (a sign-in racing the call) may survive, and an error part-way
    /// leaves the batches before it done (calling again finishes the job).
    pub fn end_all_sessions(&self, started: i64, batch: i64) -> Result<EndedSessions, StoreError> {
        let mut total = EndedSessions::default();
        loop {
            let began = Instant::now();
            // IMMEDIATE on SQLite: the batch reads, then writes, and another process (the CLI)
            // may write in between.
            let done = self.write_transaction(|c| {
                let due: Vec<String> = sessions::table
                    .filter(sessions::created_at.le(started))
                    .filter(sessions::expires_at.gt(started))
                    .order(sessions::id)
                    .limit(batch.max(1))
                    .select(sessions::id)
                    .load(c)?;
                if due.is_empty() {
                    return Ok(None);
                }
                // Only what this delete removed counts: a session a parallel end (on PostgreSQL)
                // took first is not returned, and its logouts are queued by that end alone.
                let ended: Vec<String> = diesel::delete(sessions::table.filter(sessions::id.eq_any(&due)))
                    .returning(sessions::id)
                    .get_results(c)?;
                let logouts_queued = crate::logout::queue_logouts_in(c, &ended, started)?;
                Ok(Some(EndedSessions { sessions: ended.len(), logouts_queued }))
            })?;
            // Sessions that qualify only ever become fewer (new ones begin after `started`), so
            // the loop ends when a batch finds none left.
            let Some(done) = done else {
                return Ok(total);
            };
            total.sessions += done.sessions;
            total.logouts_queued += done.logouts_queued;
            if self.backend() == "sqlite" {
                // SQLite has one writer, and neither the gate's mutex nor SQLite's busy handler
                // hands it over in turn: without a pause this loop takes it straight back and
                // starves sign-ins (measured: a session insert waited 350 ms). Resting as long
                // as the batch took leaves other writers at least half the time.
                std::thread::sleep(began.elapsed().min(MAX_PAUSE));
            }
        }
    }

    /// Audit events matching `filter`, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = self.read(|c| {
            let mut query = audit_events::table.into_boxed();
            if let Some(account) = &filter.account_id {
                query = query.filter(audit_events::account_id.eq(account.clone()));
            }
            if let Some(client) = &filter.client_id {
                query = query.filter(audit_events::client_id.eq(client.clone()));
            }
            match filter.kind.as_deref() {
                Some(prefix) if prefix.ends_with('.') => {
                    query = query
                        .filter(audit_events::kind.like(format!("{}%", escape_like(prefix))).escape('\\'));
                }
                Some(kind) => query = query.filter(audit_events::kind.eq(kind.to_owned())),
                None => {}
            }
            if let Some(since) = filter.since {
                query = query.filter(audit_events::at.ge(since));
            }
            if let Some(until) = filter.until {
                query = query.filter(audit_events::at.lt(until));
            }
            Ok(query
                .order((audit_events::at.desc(), audit_events::id.desc()))
                .limit(filter.limit)
                .select(crate::audit::AuditRow::as_select())
                .load(c)?)
        })?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}

/// `%`, `_` and `\` stand for themselves in a LIKE pattern with `ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}
