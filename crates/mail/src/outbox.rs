//! The outbox: mail is written to a table in the same transaction as the change that caused it
//! (a reset link, a sign-in code) and delivered from there by a worker, so sending never blocks
//! a request and a crash between "code stored" and "mail sent" loses nothing.
//!
//! ```text
//!  enqueue ──▶ pending ──claim (lease)──▶ sending ──ok──▶ sent
//!                ▲                           │
//!                └── retry at now+backoff ◀──┤ transient, attempts < MAX_ATTEMPTS
//!                                            └─ permanent, or attempts exhausted ──▶ failed
//! ```
//!
//! A claim is a lease: a node that dies mid-send leaves the row to be claimed again when the
//! lease ends, so several nodes share one outbox and a message is never lost (it may, rarely,
//! be sent twice: at-least-once delivery).

use std::sync::Arc;

use crate::{MailError, Mailer, OutgoingMessage};

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
    /// Leases up to `limit` pending messages due at `now` whose lease (if any) has ended, for
    /// `lease_secs`. A conditional update: two nodes never lease the same message at once.
    fn claim_due(&self, now: i64, lease_secs: i64, limit: usize) -> Result<Vec<QueuedMessage>, OutboxError>;
    fn mark_sent(&self, id: &str, now: i64) -> Result<(), OutboxError>;
    /// Records a failed attempt and makes the message due again at `next_attempt_at`.
    fn mark_retry(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), OutboxError>;
    /// Gives up on a message: kept, with its last error, for an operator to see.
    fn mark_failed(&self, id: &str, error: &str, now: i64) -> Result<(), OutboxError>;
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

/// Claims what is due and tries to deliver it; returns how many messages were handled. The
/// store calls are synchronous and run on tokio's blocking pool.
pub async fn deliver_due<O>(
    outbox: Arc<O>,
    mailer: &Mailer,
    now: i64,
    limit: usize,
) -> Result<usize, OutboxError>
where
    O: Outbox + Send + Sync + 'static,
{
    let store = outbox.clone();
    let due = blocking(move || store.claim_due(now, LEASE_SECS, limit)).await?;
    let handled = due.len();
    for queued in due {
        let outcome = mailer.send(&queued.message).await;
        let store = outbox.clone();
        match judge(&outcome, queued.attempts, now) {
            Attempt::Sent => blocking(move || store.mark_sent(&queued.id, now)).await?,
            Attempt::Retry { at } => {
                let error = outcome.err().map(|e| e.to_string()).unwrap_or_default();
                tracing::warn!(id = %queued.id, attempts = queued.attempts + 1, %error, "mail delivery failed; will retry");
                blocking(move || store.mark_retry(&queued.id, at, &error)).await?;
            }
            Attempt::Failed => {
                let error = outcome.err().map(|e| e.to_string()).unwrap_or_default();
                tracing::error!(id = %queued.id, attempts = queued.attempts + 1, %error, "mail delivery failed for good");
                blocking(move || store.mark_failed(&queued.id, &error, now)).await?;
            }
        }
    }
    Ok(handled)
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
