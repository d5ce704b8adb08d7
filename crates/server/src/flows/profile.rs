//! The signed-in citizen's own profile: edit, change password, delete. Each change is audited
//! (who, what, when, from which address) with no password in it. The hosted pages and the JSON
//! API both run these.

use identity::{NewAuditEvent, ProfileStore, ProfileUpdate, RevocationStore, SignInOutcome};
use mail::messages::PasswordChangedBy;

use super::session::Citizen;
use crate::http::error::Failure;
use crate::state::AppState;

/// Stores `update` and audits the fields it changed; `false` when the account is gone.
pub async fn update(
    state: &AppState,
    me: &Citizen,
    update: ProfileUpdate,
    ip: Option<String>,
) -> Result<bool, Failure> {
    let changed = update.changed_fields(&me.account);
    if changed.is_empty() {
        return Ok(true);
    }
    let (id, now) = (me.account.id.clone(), AppState::now());
    if state.db(move |s| s.update_profile(&id, &update, now)).await?.is_none() {
        return Ok(false);
    }
    audit(state, NewAuditEvent::profile_updated(&me.account.id, &changed, ip, now)).await?;
    Ok(true)
}

/// What asking to change the password led to.
pub enum PasswordChange {
    Changed,
    /// The current password is wrong (and the failure counted towards the lockout).
    WrongCurrent,
    /// The account is locked; the message says until when and how to unlock it.
    Locked(String),
    /// The new password breaks these rules (or the two new ones differ).
    Rejected(Vec<String>),
}

pub const MISMATCH: &str = "The passwords do not match.";

/// The current password is checked like a sign-in (one argon2 verification; a wrong one counts
/// towards the lockout, so a borrowed browser cannot be used to guess it), then the new one
/// under every rule, history included. Success ends every other session and revokes the
/// account's tokens; the citizen's own session stays. The citizen is mailed a notice (ASVS 5.0
/// 6.3.7), queued in the password's own transaction.
pub async fn change_password(
    state: &AppState,
    me: &Citizen,
    current: &str,
    new: &str,
    repeat: &str,
    ip: Option<String>,
) -> Result<PasswordChange, Failure> {
    if new != repeat {
        return Ok(PasswordChange::Rejected(vec![MISMATCH.into()]));
    }
    let (account, now) = (&me.account, AppState::now());
    match super::password::sign_in(state, account.email.as_str(), current, ip.clone()).await? {
        SignInOutcome::Authenticated(a) if a.id == account.id => {}
        SignInOutcome::Locked { until } => {
            return Ok(PasswordChange::Locked(identity::locked_message(until, now)));
        }
        _ => return Ok(PasswordChange::WrongCurrent),
    }
    let new_hash = match super::password::check_new(state, account, new).await? {
        Ok(hash) => hash,
        Err(errors) => return Ok(PasswordChange::Rejected(errors)),
    };
    let depth = state.password_rules.effective_history_depth();
    let (id, keep) = (account.id.clone(), me.session.id.clone());
    let notice = super::mail::password_changed_notice(state, account, PasswordChangedBy::Profile, now);
    state
        .db(move |s| {
            s.change_password_with_notice(&id, &new_hash, depth, &notice, now)?;
            s.revoke_account_access(&id, Some(&keep), now)
        })
        .await?;
    state.outbox_waker.notify_one();
    audit(state, NewAuditEvent::password_changed(&account.id, ip, now)).await?;
    Ok(PasswordChange::Changed)
}

/// Deletes the account and everything hanging off it (sessions, codes, lockout, history); the
/// email is free to sign up again. The audit event is written first, so the trail says who
/// deleted the account even though the account is gone.
pub async fn delete(state: &AppState, me: Citizen, ip: Option<String>) -> Result<(), Failure> {
    let (id, now) = (me.account.id, AppState::now());
    audit(state, NewAuditEvent::account_deleted(&id, ip, now)).await?;
    state.db(move |s| s.delete_account(&id)).await?;
    Ok(())
}

async fn audit(state: &AppState, event: NewAuditEvent) -> Result<(), Failure> {
    use identity::AuditStore;
    state.db(move |s| s.record_event(&event)).await
}
