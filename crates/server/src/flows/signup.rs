//! Sign-up after the form passed: hash the password, hold the registration, mail the
//! verification link — in one transaction with the outbox row. Run in the background after the
//! page answered, so neither the answer nor its timing tells whether the address has an account.

use identity::{NewRegistration, ValidSignUp};
use mail::messages;

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
