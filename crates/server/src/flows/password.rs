//! Password sign-in: email → account (or none) → the attempt counted under the lockout row's
//! lock (refused unchecked if locked) → one argon2 verification on the hash pool → a right
//! password clears the count. Counting before checking is what keeps parallel guesses from
//! racing past the threshold ([`identity::LockoutState::begin_attempt`]). An unknown email and
//! a wrong password take the same path, time and answer; only an existing, locked account hears
//! that it is locked (the guide's "Unlock account?" depends on it).

use identity::{
    AccountStore, AuditStore, Email, LockoutStore, NewAuditEvent, PasswordAttempt, SignInOutcome,
};

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<String>,
) -> Result<SignInOutcome, Failure> {
    within_budget(state, email).await?;
    let now = AppState::now();
    let account = match Email::parse(email) {
        Ok(email) => state.db(move |s| s.find_account_by_email(&email)).await?,
        Err(_) => None,
    };
    let attempt = match &account {
        Some(a) => {
            let (id, policy) = (a.id.clone(), state.settings.accounts.lockout);
            Some(state.db(move |s| s.begin_password_attempt(&id, &policy, now)).await?)
        }
        None => None,
    };
    // Locked before this attempt: verify_sign_in answers Locked after a dummy verification.
    let locked = match attempt {
        Some(PasswordAttempt::Locked(before)) => Some(before),
        _ => None,
    };
    let account_id = account.as_ref().map(|a| a.id.clone());
    let outcome = identity::verify_sign_in(&state.hash_pool, account, locked, password, now).await;
    match (&outcome, attempt) {
        // The failure was counted before the check.
        (SignInOutcome::Invalid { account_id: Some(id) }, Some(PasswordAttempt::Allowed(after))) => {
            let failed = NewAuditEvent::sign_in_failed(id, "pwd", "wrong_password", ip.clone(), now);
            // Only the one attempt that took the count to the threshold is allowed with a locked
            // state after it (later ones are refused unchecked): the lock is recorded once.
            let locked = after.is_locked(now).map(|until| NewAuditEvent::account_locked(id, until, ip, now));
            state
                .db(move |s| {
                    s.record_event(&failed)?;
                    locked.as_ref().map_or(Ok(()), |event| s.record_event(event))
                })
                .await?;
            // The failure that reaches the threshold already answers "locked".
            if let Some(until) = after.is_locked(now) {
                return Ok(SignInOutcome::Locked { until });
            }
        }
        (SignInOutcome::Locked { .. }, _) => {
            if let Some(a) = account_id {
                let event = NewAuditEvent::sign_in_failed(&a, "pwd", "locked", ip, now);
                state.db(move |s| s.record_event(&event)).await?;
            }
        }
        // The attempt counted as a failure is undone, with any earlier ones.
        (SignInOutcome::Authenticated(a), _) => {
            let id = a.id.clone();
            state.db(move |s| s.clear_lockout(&id)).await?;
        }
        _ => {}
    }
    Ok(outcome)
}

/// Counts one sign-in attempt (a password or a typed code) against the typed address's budget
/// (`limits.sign_in_per_account` per window, shared by every node); over it, 429. Kept
/// before argon2, so a distributed guesser cannot make one account cost unbounded hashing.
pub async fn within_budget(state: &AppState, email: &str) -> Result<(), Failure> {
    use identity::{Throttle, ThrottleStore};
    let Some(policy) = state.settings.limits.per_account() else {
        return Ok(());
    };
    let (key, now) = (identity::sign_in_key(email), AppState::now());
    match state.db(move |s| s.hit(&key, &policy, now)).await? {
        Throttle::Allowed => Ok(()),
        Throttle::Limited { retry_after } => {
            tracing::info!(retry_after, "sign-in budget of an address spent");
            crate::http::metrics::rate_limited("account");
            Err(Failure::TooManyRequests { retry_after })
        }
    }
}

/// Checks a new password against every rule (the policy with the account's email and names,
/// common passwords, the account's history) and hashes it when it passes. `Err` lists every
/// broken rule, for the page to show.
pub async fn check_new(
    state: &AppState,
    account: &identity::Account,
    password: &str,
) -> Result<Result<String, Vec<String>>, Failure> {
    use identity::PasswordHistoryStore;
    let (id, depth) = (account.id.clone(), state.password_rules.effective_history_depth());
    let history = state.db(move |s| s.password_history(&id, depth)).await?;
    let names: Vec<&str> = [&account.name, &account.given_name, &account.family_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let violations =
        state.password_rules.violations(&state.hash_pool, password, &account.email, &names, &history).await;
    if !violations.is_empty() {
        return Ok(Err(violations.iter().map(ToString::to_string).collect()));
    }
    let hash = state.hash_pool.hash(password.to_owned()).await.map_err(Failure::internal)?;
    Ok(Ok(hash))
}

/// Whether a reset link can still be used (the page shows its form only then).
pub async fn reset_link_is_live(state: &AppState, token: &str) -> Result<bool, Failure> {
    use identity::{Consume, OneTimeCodeStore, Purpose};
    let (now, hash) = (AppState::now(), tokens::TokenHash::of(token));
    let peek = state.db(move |s| s.peek_link(&hash, Purpose::PasswordReset, now)).await?;
    Ok(matches!(peek, Consume::Accepted { .. }))
}

/// What a password-reset link did with a new password.
pub enum Reset {
    Done,
    /// Used, expired or unknown.
    LinkSpent,
    /// The new password breaks these rules; the link is still valid.
    Rejected(Vec<String>),
}

/// The reset link's flow: the link is only looked at until the new password passes every rule,
/// then spent (the one-winner step: a second submission finds it used); the password changes,
/// every session ends, the account's tokens are revoked, a lockout is lifted, and the citizen
/// is mailed a notice (ASVS 5.0 6.3.7).
pub async fn reset_with_link(state: &AppState, token: &str, password: &str) -> Result<Reset, Failure> {
    use identity::{Consume, OneTimeCodeStore, Purpose, RevocationStore};
    use mail::messages::PasswordChangedBy;
    let now = AppState::now();
    let hash = tokens::TokenHash::of(token);
    let peek = hash.clone();
    let Consume::Accepted { account_id } =
        state.db(move |s| s.peek_link(&peek, Purpose::PasswordReset, now)).await?
    else {
        return Ok(Reset::LinkSpent);
    };
    let Some(account) = state.db(move |s| s.find_account(&account_id)).await? else {
        return Ok(Reset::LinkSpent);
    };
    let new_hash = match check_new(state, &account, password).await? {
        Ok(hash) => hash,
        Err(errors) => return Ok(Reset::Rejected(errors)),
    };
    if !matches!(
        state.db(move |s| s.consume_link(&hash, Purpose::PasswordReset, now)).await?,
        Consume::Accepted { .. }
    ) {
        return Ok(Reset::LinkSpent);
    }
    let (id, depth) = (account.id.clone(), state.password_rules.effective_history_depth());
    let notice = super::mail::password_changed_notice(state, &account, PasswordChangedBy::ResetLink, now);
    state
        .db(move |s| {
            s.change_password_with_notice(&id, &new_hash, depth, &notice, now)?;
            s.revoke_account_access(&id, None, now)?;
            s.clear_lockout(&id)
        })
        .await?;
    state.outbox_waker.notify_one();
    Ok(Reset::Done)
}
