//! The outbox: mail is written to a table in the same transaction as the change that caused it
//! (a reset link, a sign-in code) and delivered from there by a worker, so sending never blocks
//! a request and a crash between "code stored" and "mail sent" loses nothing.
//!
//! ```text
//!  enqueue ──▶ pending ──claim (lease)──▶ sending ──"sent" recorded, then "."──▶ sent
//!                ▲  ▲                       │  │                                  │
//!                │  └─ lease over (its node │  └─ permanent, or attempts ──▶ failed ◀─ refused
//!                │     died before the "."):│     exhausted
//!                │     sent again           │
//!                └── retry at now+backoff ◀─┘ transient          no answer after "." ──▶ in_doubt
//! ```
//!
//! Exactly once, as far as SMTP allows. A message is claimed alone, just before its send, and
//! marked `sending`; "sent" is committed after the body and *before* the final `.` of DATA, the
//! moment the relay accepts it (`crate::smtp`). A node that dies before that commit has handed
//! over nothing the relay may deliver (RFC 5321 §3.8), so when the claim's lease ends the message
//! is simply `pending` again; a node that dies after it has recorded what will happen. What is
//! left cannot be closed from the client's side: the relay's acceptance and the database commit
//! are two systems with no atomic hand-off (RFC 1047). A crash in the microseconds between the
//! commit and the `.` reaching the socket loses the message; a relay that accepts the `.` and
//! then never answers leaves it `in_doubt` (not sent again, so it can never arrive twice); and
//! a database failure at the commit itself, once the body is written, sends it anyway (lettre
//! writes body and `.` in one call), which a later lease may then repeat.

use std::sync::Arc;

use crate::{Delivery, MailError, Mailer, OutgoingMessage};

/// Deliveries tried before a message is marked failed (about a day with [`backoff_secs`]).
pub const MAX_ATTEMPTS: u32 = 12;
/// How long a claimed message stays reserved for the node that claimed it.
pub const LEASE_SECS: i64 = 120;

/// A message waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: String,
    pub message: OutgoingMessage,
    /// Deliveries already tried.
    pub attempts: u32,
}

/// An infrastructure failure in the outbox store; opaque here, logged with its chain.
#[derive(Debug, thiserror::Error)]
#[error("outbox store failure")]
pub struct OutboxError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// What the outbox table must do. The `store` crate implements it; each method is one
/// transaction.
pub trait Outbox {
    /// Adds a message, due now.
    fn enqueue(&self, message: &OutgoingMessage, now: i64) -> Result<String, OutboxError>;
    /// Leases up to `limit` pending messages due at `now` for `lease_secs` and marks them
    /// `sending`: the caller is about to send them. `sending` rows whose lease ran out (their node
    /// died before recording them sent, so before the relay could accept them) are `pending`
    /// again first. A conditional update: two nodes never lease the same message at once.
    fn claim_due(&self, now: i64, lease_secs: i64, limit: usize) -> Result<Vec<QueuedMessage>, OutboxError>;
    fn mark_sent(&self, id: &str, now: i64) -> Result<(), OutboxError>;
    /// Records a failed attempt and makes the message due again at `next_attempt_at`.
    fn mark_retry(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), OutboxError>;
    /// Gives up on a message: kept, with its last error, for an operator to see.
    fn mark_failed(&self, id: &str, error: &str, now: i64) -> Result<(), OutboxError>;
    /// The message was handed to the relay but whether it arrived is unknown: kept as
    /// `in_doubt`, with `error`, for an operator to see; never sent again.
    fn mark_in_doubt(&self, id: &str, error: &str) -> Result<(), OutboxError>;
}

/// Seconds before attempt `attempts + 1`: 10 s doubling, at most an hour.
pub fn backoff_secs(attempts: u32) -> i64 {
    let doubled = 10_i64.saturating_mul(1_i64 << attempts.min(20));
    doubled.min(3600)
}

/// What became of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    Retry { at: i64 },
    Failed,
}

/// The rule: permanent errors and exhausted attempts fail; the rest retry after the back-off.
pub fn judge(outcome: &Result<(), MailError>, attempts_before: u32, now: i64) -> Attempt {
    match outcome {
        Ok(()) => Attempt::Sent,
        Err(e) if e.is_permanent() => Attempt::Failed,
        Err(_) if attempts_before + 1 >= MAX_ATTEMPTS => Attempt::Failed,
        Err(_) => Attempt::Retry { at: now + backoff_secs(attempts_before) },
    }
}

/// Claims what is due, one message at a time (so a crash strands at most the one being sent,
/// until its lease ends), and tries to deliver it; returns how many messages were handled, at
/// most `limit`.
/// `clock` gives unix seconds. The store calls are synchronous and run on tokio's blocking pool.
pub async fn deliver_due<O>(
    outbox: Arc<O>,
    mailer: &Mailer,
    clock: impl Fn() -> i64,
    limit: usize,
) -> Result<usize, OutboxError>
where
    O: Outbox + Send + Sync + 'static,
{
    let mut handled = 0;
    while handled < limit {
        // Read per message: a lease starts when its message is claimed.
        let now = clock();
        let store = outbox.clone();
        let Some(queued) = blocking(move || store.claim_due(now, LEASE_SECS, 1)).await?.pop() else {
            break;
        };
        handled += 1;
        let recorder = outbox.clone();
        let id = queued.id.clone();
        // "sent" is committed before the relay can accept the message (see `crate::smtp`).
        let record = move || match recorder.mark_sent(&id, now) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(%id, error = %e, "outbox: cannot record a message as sent");
                false
            }
        };
        let delivery = mailer.send_recorded(&queued.message, record).await;
        let store = outbox.clone();
        match delivery {
            Delivery::Delivered => {}
            Delivery::Failed(e) => settle_failure(store, queued, e, now).await?,
            Delivery::InDoubt(e) => {
                let error = e.to_string();
                tracing::warn!(id = %queued.id, %error, "mail handed over but unanswered: in doubt, not sent again");
                blocking(move || store.mark_in_doubt(&queued.id, &error)).await?;
            }
            Delivery::Unrecorded { accepted: true } => {
                blocking(move || store.mark_sent(&queued.id, now)).await?
            }
            Delivery::Unrecorded { accepted: false } => {
                let error = "handed over while the store failed; the relay did not answer".to_owned();
                blocking(move || store.mark_in_doubt(&queued.id, &error)).await?;
            }
        }
    }
    Ok(handled)
}

/// A message that was not delivered: retried after the back-off, or failed for good. Either
/// overwrites a "sent" recorded before the relay refused it.
async fn settle_failure<O>(
    store: Arc<O>,
    queued: QueuedMessage,
    e: MailError,
    now: i64,
) -> Result<(), OutboxError>
where
    O: Outbox + Send + Sync + 'static,
{
    let error = e.to_string();
    match judge(&Err(e), queued.attempts, now) {
        Attempt::Retry { at } => {
            tracing::warn!(id = %queued.id, attempts = queued.attempts + 1, %error, "mail delivery failed; will retry");
            blocking(move || store.mark_retry(&queued.id, at, &error)).await
        }
        Attempt::Failed | Attempt::Sent => {
            tracing::error!(id = %queued.id, attempts = queued.attempts + 1, %error, "mail delivery failed for good");
            blocking(move || store.mark_failed(&queued.id, &error, now)).await
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OutboxError> + Send + 'static,
) -> Result<T, OutboxError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| OutboxError(Box::new(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_an_hour() {
        assert_eq!(backoff_secs(0), 10);
        assert_eq!(backoff_secs(1), 20);
        assert_eq!(backoff_secs(4), 160);
        assert_eq!(backoff_secs(9), 3600);
        assert_eq!(backoff_secs(40), 3600);
    }

    #[test]
    fn transient_errors_retry_until_attempts_run_out() {
        let transient: Result<(), MailError> = Err(MailError::Transient("refused".into()));
        assert_eq!(judge(&transient, 0, 100), Attempt::Retry { at: 110 });
        assert_eq!(
            judge(&transient, MAX_ATTEMPTS - 2, 100),
            Attempt::Retry { at: 100 + backoff_secs(MAX_ATTEMPTS - 2) }
        );
        assert_eq!(judge(&transient, MAX_ATTEMPTS - 1, 100), Attempt::Failed);
    }

    #[test]
    fn permanent_errors_fail_at_once_and_success_is_sent() {
        let permanent: Result<(), MailError> = Err(MailError::Permanent("550 no such user".into()));
        assert_eq!(judge(&permanent, 0, 100), Attempt::Failed);
        assert_eq!(judge(&Ok(()), 3, 100), Attempt::Sent);
    }
}
