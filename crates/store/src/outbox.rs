//! The mail outbox (`mail::Outbox`), and issuing a one-time code together with the mail that
//! carries it ([`Store::issue_code_with_mail`]).
//!
//! A row's life: `pending` (due at `next_attempt_at`) → `sending` (claimed by one node just
//! before its send, leased until `locked_until`; back to `pending` when the lease runs out) →
//! `sent` (recorded before the relay could accept it, see `mail::outbox`), or back to `pending`
//! later (`mark_retry`), or `failed`, or `in_doubt` (handed over, never answered).

use diesel::prelude::*;
use identity::{AccountId, NewOneTimeCode};
use mail::{OutboxError, OutgoingMessage, QueuedMessage};

use crate::Store;
use crate::accounts::change_password_in;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::one_time_codes::replace_code_in;
use crate::schema::outbox;

const PENDING: &str = "pending";
const SENDING: &str = "sending";
pub(crate) const SENT: &str = "sent";
pub(crate) const FAILED: &str = "failed";
pub(crate) const IN_DOUBT: &str = "in_doubt";

/// What an operator reads in `last_error` of a row whose node stopped while sending it.
const ABANDONED: &str = "the node sending this message stopped before handing it over";

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct QueuedRow {
    id: String,
    payload: String,
    attempts: i32,
}

impl TryFrom<QueuedRow> for QueuedMessage {
    type Error = StoreError;

    fn try_from(r: QueuedRow) -> Result<Self, StoreError> {
        Ok(QueuedMessage {
            id: r.id,
            message: serde_json::from_str(&r.payload)
                .map_err(|source| StoreError::Malformed { column: "outbox.payload", source })?,
            attempts: attempts_from(r.attempts),
        })
    }
}

fn attempts_from(stored: i32) -> u32 {
    u32::try_from(stored).unwrap_or(0)
}

/// `enqueue`'s statement, for a transaction that may do more.
pub(crate) fn enqueue_in(
    c: &mut DbConnection,
    message: &OutgoingMessage,
    now: i64,
) -> Result<String, StoreError> {
    let payload = serde_json::to_string(message)
        .map_err(|source| StoreError::Malformed { column: "outbox.payload", source })?;
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::recipient.eq(&message.to),
            outbox::payload.eq(payload),
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(id)
}

impl Store {
    /// Stores `code` (replacing the account's code for the same purpose, as
    /// [`OneTimeCodeStore::replace_code`](identity::OneTimeCodeStore::replace_code)) and enqueues
    /// `message`, which carries it, in one transaction: either both are stored or neither.
    /// Returns the outbox id.
    pub fn issue_code_with_mail(
        &self,
        code: &NewOneTimeCode,
        message: &OutgoingMessage,
        now: i64,
    ) -> Result<String, StoreError> {
        self.transaction(|c| {
            let id = enqueue_in(c, message, now)?;
            replace_code_in(c, code)?;
            Ok(id)
        })
    }

    /// Changes the account's password (as
    /// [`PasswordHistoryStore::change_password`](identity::PasswordHistoryStore::change_password))
    /// and enqueues `notice`, the message that tells the citizen, in one transaction: a changed
    /// password is never left untold. Returns the outbox id, or `None` (and nothing queued) when
    /// the account is gone.
    pub fn change_password_with_notice(
        &self,
        account: &AccountId,
        password_hash: &str,
        keep: usize,
        notice: &OutgoingMessage,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.transaction(|c| {
            if !change_password_in(c, account.as_str(), password_hash, keep, now)? {
                return Ok(None);
            }
            enqueue_in(c, notice, now).map(Some)
        })
    }

    /// An outbox message's status (`pending`, `sent` or `failed`) and the deliveries tried, for
    /// tests and operators; `None` for an unknown id.
    pub fn outbox_status(&self, id: &str) -> Result<Option<(String, u32)>, StoreError> {
        let row = self.read(|c| {
            Ok(outbox::table
                .find(id)
                .select((outbox::status, outbox::attempts))
                .first::<(String, i32)>(c)
                .optional()?)
        })?;
        Ok(row.map(|(status, attempts)| (status, attempts_from(attempts))))
    }

    /// How many messages are `pending`, `sending`, `failed` and `in_doubt` (sent ones are not
    /// counted: they only grow), for the metrics. One indexed query.
    pub fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(|c| {
            Ok(outbox::table
                .filter(outbox::status.eq_any([PENDING, SENDING, FAILED, IN_DOUBT]))
                .group_by(outbox::status)
                .select((outbox::status, diesel::dsl::count_star()))
                .load::<(String, i64)>(c)?)
        })
    }
}

impl mail::Outbox for Store {
    fn enqueue(&self, message: &OutgoingMessage, now: i64) -> Result<String, OutboxError> {
        Ok(self.transaction(|c| enqueue_in(c, message, now))?)
    }

    /// First, `sending` rows whose lease ran out are `pending` again (their node stopped before
    /// recording them sent, so before the relay could accept them). Then candidates are read,
    /// and leased one by one with a conditional update that re-checks that they are still
    /// `pending`; only rows whose update affected one row are returned. On PostgreSQL a node
    /// that updates a row another node has just claimed waits for that node's commit, re-checks
    /// and affects nothing; the updates go in id order, so two nodes never deadlock. On SQLite
    /// the transaction is `IMMEDIATE`: claims run one at a time.
    fn claim_due(&self, now: i64, lease_secs: i64, limit: usize) -> Result<Vec<QueuedMessage>, OutboxError> {
        let (rows, abandoned) = self.write_transaction(|c| {
            let abandoned = diesel::update(
                outbox::table.filter(outbox::status.eq(SENDING)).filter(outbox::locked_until.le(now)),
            )
            .set((
                outbox::status.eq(PENDING),
                outbox::last_error.eq(ABANDONED),
                outbox::locked_until.eq(None::<i64>),
            ))
            .execute(c)?;
            let mut candidates: Vec<String> = outbox::table
                .filter(outbox::status.eq(PENDING))
                .filter(outbox::next_attempt_at.le(now))
                .order((outbox::next_attempt_at, outbox::created_at, outbox::id))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select(outbox::id)
                .load(c)?;
            candidates.sort();
            let mut leased = Vec::with_capacity(candidates.len());
            for id in candidates {
                let won = diesel::update(
                    outbox::table
                        .find(&id)
                        .filter(outbox::status.eq(PENDING))
                        .filter(outbox::next_attempt_at.le(now)),
                )
                .set((outbox::status.eq(SENDING), outbox::locked_until.eq(now.saturating_add(lease_secs))))
                .execute(c)?;
                if won == 1 {
                    leased.push(id);
                }
            }
            let rows = outbox::table
                .filter(outbox::id.eq_any(leased))
                .order((outbox::next_attempt_at, outbox::created_at, outbox::id))
                .select(QueuedRow::as_select())
                .load(c)?;
            Ok((rows, abandoned))
        })?;
        if abandoned > 0 {
            tracing::warn!(messages = abandoned, "outbox: {ABANDONED}; sending again");
        }
        Ok(rows.into_iter().map(QueuedMessage::try_from).collect::<Result<_, _>>()?)
    }

    fn mark_sent(&self, id: &str, now: i64) -> Result<(), OutboxError> {
        self.transaction(|c| {
            Ok(diesel::update(outbox::table.find(id))
                .set((outbox::status.eq(SENT), outbox::sent_at.eq(now), outbox::locked_until.eq(None::<i64>)))
                .execute(c)?)
        })?;
        Ok(())
    }

    fn mark_retry(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), OutboxError> {
        self.transaction(|c| {
            Ok(diesel::update(outbox::table.find(id))
                .set((
                    outbox::status.eq(PENDING),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::next_attempt_at.eq(next_attempt_at),
                    outbox::last_error.eq(error),
                    outbox::locked_until.eq(None::<i64>),
                ))
                .execute(c)?)
        })?;
        Ok(())
    }

    fn mark_in_doubt(&self, id: &str, error: &str) -> Result<(), OutboxError> {
        self.settle(id, IN_DOUBT, error)
    }

    fn mark_failed(&self, id: &str, error: &str, _now: i64) -> Result<(), OutboxError> {
        self.settle(id, FAILED, error)
    }
}

impl Store {
    /// Ends a message's delivery attempts in `status` (failed or in doubt): never sent again.
    fn settle(&self, id: &str, status: &str, error: &str) -> Result<(), OutboxError> {
        self.transaction(|c| {
            Ok(diesel::update(outbox::table.find(id))
                .set((
                    outbox::status.eq(status),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(error),
                    outbox::locked_until.eq(None::<i64>),
                ))
                .execute(c)?)
        })?;
        Ok(())
    }
}
