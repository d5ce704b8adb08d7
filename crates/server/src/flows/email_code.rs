//! Signing in with an emailed 6-digit code (identifier-first guide, step 4). Tries are limited
//! per code; a wrong code, an expired one and an unknown address are the same `None`.

use identity::{Account, AccountId, Consume, OneTimeCodeStore, Purpose};

use crate::http::error::Failure;
use crate::http::metrics::{self, SignInMethod};
use crate::state::AppState;

/// The account whose live sign-in code `code` is, spending the code; a wrong one uses a try.
pub async fn verify(state: &AppState, email: &str, code: &str) -> Result<Option<Account>, Failure> {
    let account = super::mail::account_for(state, email).await?;
    // An unknown address takes the same steps (an attempt on an id no code has), so the time
    // an answer takes does not tell whether the address has an account.
    let (id, now) = (account.as_ref().map_or_else(AccountId::generate, |a| a.id.clone()), AppState::now());
    let hash = state.code_key.hash(&id, Purpose::SignInCode, code.trim());
    let max_tries = state.settings.accounts.codes.typed_code_max_tries;
    let outcome =
        state.db(move |s| s.attempt_typed_code(&id, Purpose::SignInCode, &hash, now, max_tries)).await?;
    let accepted = matches!(outcome, Consume::Accepted { .. });
    metrics::sign_in(SignInMethod::EmailCode, accepted);
    Ok(account.filter(|_| accepted))
}
