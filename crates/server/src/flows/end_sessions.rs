//! An operator ends sessions in bulk (OWASP ASVS 5.0 7.4.5: "terminate active sessions for an
//! individual user or for all users"), through the admin API or the CLI: every session of one
//! account, or every session of every account. Each ended session's portals are told by
//! back-channel logout exactly as when one session ends (the store queues the logouts in the
//! transaction that ends the session), and the operation is recorded as one `admin.*` event.
//!
//! Neither revokes a token. Access tokens live minutes; refresh tokens are grants issued for
//! `offline_access`, which Back-Channel Logout 1.0 §2.7 says normally outlive the session, as
//! they do when a citizen signs out. An operator who wants one account's tokens gone locks it
//! (`POST /admin/v1/accounts/{id}/lock`), which revokes them; docs/admin-api.md says so.

use identity::{AccountId, AuditKind, AuditStore, NewAuditEvent, StoreError};
use serde_json::json;
use store::{EndedSessions, SESSIONS_PER_BATCH, Store};

/// Ends every live session of `account` and records `admin.account_sessions_ended`, as the
/// operator at `ip` (none from the CLI).
pub fn of_account(
    store: &Store,
    account: &AccountId,
    ip: Option<String>,
    now: i64,
) -> Result<EndedSessions, StoreError> {
    let ended = store.end_sessions_of(account, now)?;
    let event =
        NewAuditEvent::admin(AuditKind::AdminAccountSessionsEnded, Some(account), ip, now, detail(ended));
    store.record_event(&event)?;
    Ok(ended)
}

/// Ends every session live at `now`, in batches (`Store::end_all_sessions`), then records
/// `admin.all_sessions_ended`. A session that begins while this runs may survive.
pub fn all(store: &Store, ip: Option<String>, now: i64) -> Result<EndedSessions, StoreError> {
    let ended = store.end_all_sessions(now, SESSIONS_PER_BATCH)?;
    let event = NewAuditEvent::admin(AuditKind::AdminAllSessionsEnded, None, ip, now, detail(ended));
    store.record_event(&event)?;
    Ok(ended)
}

/// What the audit event and the answer say: counts only.
pub fn detail(ended: EndedSessions) -> serde_json::Value {
    json!({ "sessions_ended": ended.sessions, "backchannel_logouts": ended.logouts_queued })
}
