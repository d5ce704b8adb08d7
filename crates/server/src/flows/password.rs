//! Password sign-in: email → account (or none) → lockout state → one argon2 verification on
//! the hash pool → the failure counted, or the lockout cleared. An unknown email and a wrong
//! password take the same path, time and answer; only an existing, locked account hears that
//! it is locked (the guide's "Unlock account?" depends on it).

use identity::{AccountStore, Email, LockoutStore, SignInOutcome};

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn sign_in(state: &AppState, email: &str, password: &str) -> Result<SignInOutcome, Failure> {
    let now = AppState::now();
    let account = match Email::parse(email) {
        Ok(email) => state.db(move |s| s.find_account_by_email(&email)).await?,
        Err(_) => None,
    };
    let lockout = match &account {
        Some(a) => {
            let id = a.id.clone();
            Some(state.db(move |s| s.lockout_state(&id, now)).await?)
        }
        None => None,
    };
    let outcome = identity::verify_sign_in(&state.hash_pool, account, lockout, password, now).await;
    match &outcome {
        SignInOutcome::Invalid { account_id: Some(id) } => {
            let (id, policy) = (id.clone(), state.settings.accounts.lockout);
            let after = state.db(move |s| s.record_failed_sign_in(&id, &policy, now)).await?;
            // The failure that reaches the threshold already answers "locked".
            if let Some(until) = after.is_locked(now) {
                return Ok(SignInOutcome::Locked { until });
            }
        }
        SignInOutcome::Authenticated(a) if lockout.is_some_and(|l| l.failures > 0) => {
            let id = a.id.clone();
            state.db(move |s| s.clear_lockout(&id)).await?;
        }
        _ => {}
    }
    Ok(outcome)
}
