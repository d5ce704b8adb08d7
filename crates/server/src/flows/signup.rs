//! Sign-up after the form passed: hash the password, hold the registration, mail the
//! verification link — in one transaction with the outbox row, committed before the page
//! answers, so an acknowledged sign-up survives a crash (tests/e2e/crash.rs). The work is the
//! same whether or not the address has an account (one hash, one registration, one message; the
//! link decides when it is used), so neither the answer nor its timing tells which.

use identity::{AccountId, CompleteRegistration, NewRegistration, RegistrationStore, Throttle, ValidSignUp};
use mail::messages;
use tokens::TokenHash;

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn register(state: &AppState, valid: ValidSignUp, password: String) -> Result<(), Failure> {
    let password_hash = state.hash_pool.hash(password).await.map_err(Failure::internal)?;
    let now = AppState::now();
    let ttl = state.settings.accounts.codes.verify_email_link_secs;
    let (token, registration) = NewRegistration::issue(valid, password_hash, now, ttl);
    let link = state.endpoint(&format!("/verify-email?token={}", token.expose()));
    let message =
        messages::verify_email(&state.settings.mail, registration.email.as_str(), &link, (ttl + 59) / 60);
    state.db(move |s| s.create_registration_with_mail(&registration, &message, now)).await?;
    state.outbox_waker.notify_one();
    Ok(())
}

/// What a sign-up form led to.
pub enum SignUp {
    /// "Email sent!": the verification link is on its way (or, when the address already has an
    /// account, nothing is; the answer is the same).
    Sent(identity::Email),
    /// Problems, each beside its field; nothing was stored.
    Invalid(Vec<identity::FieldError>),
    /// The address was sent a link a moment ago.
    TooSoon { retry_after: i64 },
}

/// Checks the form, throttles the address, and registers.
pub async fn start(state: &AppState, form: &identity::SignUpForm) -> Result<SignUp, Failure> {
    let valid = match identity::validate_sign_up(form, &state.password_rules, &state.hash_pool).await {
        Ok(valid) => valid,
        Err(errors) => return Ok(SignUp::Invalid(errors)),
    };
    let email = valid.email.clone();
    let purpose = identity::Purpose::VerifyEmail;
    if let Throttle::Limited { retry_after } = super::mail::throttle(state, purpose, email.as_str()).await? {
        return Ok(SignUp::TooSoon { retry_after });
    }
    // Not in the background: "Email sent!" promises that the link is queued, and a crash after
    // the answer must not take the registration with it.
    register(state, valid, form.password.clone()).await?;
    Ok(SignUp::Sent(email))
}

/// Whether a verification link can still be used (the page shows its button only then).
pub async fn link_is_live(state: &AppState, token: &str) -> Result<bool, Failure> {
    let (now, hash) = (AppState::now(), TokenHash::of(token));
    state.db(move |s| s.peek_registration(&hash, now)).await
}

/// Spends a verification link: the account is created, or an imported one claimed. `None`:
/// the link was used, expired or unknown.
pub async fn verify(state: &AppState, token: &str) -> Result<Option<CompleteRegistration>, Failure> {
    let (now, hash) = (AppState::now(), TokenHash::of(token));
    state.db(move |s| s.complete_registration(&hash, &AccountId::generate(), now)).await
}
