//! Signing in with an emailed 6-digit code (identifier-first guide, step 4). Tries are limited
//! per code; a wrong code, an expired one and an unknown address are the same `Wrong`. A
//! locked account (too many wrong passwords, or an operator's lock) cannot sign in this way
//! either, and hears so only once its code was right.

use identity::{
    Account, AccountId, AuditStore, Consume, LockoutStore, NewAuditEvent, OneTimeCodeStore, Purpose,
};

use crate::http::error::Failure;
use crate::http::metrics::{self, SignInMethod, SignInResult};
use crate::state::AppState;

pub enum CodeSignIn {
    SignedIn(Account),
    Wrong,
    /// Locked until then ([`identity::locked_message`]).
    Locked(i64),
}

/// Spends the account's live sign-in code if `code` is it; a wrong one uses a try.
pub async fn verify(
    state: &AppState,
    email: &str,
    code: &str,
    ip: Option<String>,
) -> Result<CodeSignIn, Failure> {
    super::password::within_budget(state, email).await?;
    let account = super::mail::account_for(state, email).await?;
    // An unknown address takes the same steps (an attempt on an id no code has), so the time
    // an answer takes does not tell whether the address has an account.
    let (id, now) = (account.as_ref().map_or_else(AccountId::generate, |a| a.id.clone()), AppState::now());
    let hash = state.code_key.hash(&id, Purpose::SignInCode, code.trim());
    let max_tries = state.settings.accounts.codes.typed_code_max_tries;
    let outcome =
        state.db(move |s| s.attempt_typed_code(&id, Purpose::SignInCode, &hash, now, max_tries)).await?;
    let accepted = matches!(outcome, Consume::Accepted { .. });
    let Some(account) = account else {
        metrics::sign_in(SignInMethod::EmailCode, SignInResult::Failure);
        return Ok(CodeSignIn::Wrong);
    };
    let audit_failure =
        |reason: &str| NewAuditEvent::sign_in_failed(&account.id, "otp", reason, ip.clone(), now);
    if !accepted {
        metrics::sign_in(SignInMethod::EmailCode, SignInResult::Failure);
        let event = audit_failure("wrong_code");
        state.db(move |s| s.record_event(&event)).await?;
        return Ok(CodeSignIn::Wrong);
    }
    let id = account.id.clone();
    if let Some(until) = state.db(move |s| s.lockout_state(&id, now)).await?.is_locked(now) {
        metrics::sign_in(SignInMethod::EmailCode, SignInResult::Locked);
        let event = audit_failure("locked");
        state.db(move |s| s.record_event(&event)).await?;
        return Ok(CodeSignIn::Locked(until));
    }
    metrics::sign_in(SignInMethod::EmailCode, SignInResult::Success);
    Ok(CodeSignIn::SignedIn(account))
}
