//! Emailed links and codes: issue the code and queue its message in one transaction, then wake
//! the worker. Callers run these in the background after answering, so the time a response
//! takes never tells whether the address has an account.

use identity::{Account, AccountStore, Email, Purpose};
use mail::messages;

use crate::http::error::Failure;
use crate::state::AppState;

/// Looks up the account for `email`, if any, without failing on a malformed address.
pub async fn account_for(state: &AppState, email: &str) -> Result<Option<Account>, Failure> {
    match Email::parse(email) {
        Ok(email) => state.db(move |s| s.find_account_by_email(&email)).await,
        Err(_) => Ok(None),
    }
}

/// The emailed links this flow sends.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    PasswordReset,
    Unlock,
}

/// Sends a link to the account of `email`, if any.
pub async fn send_link(state: &AppState, email: &str, link: Link) -> Result<(), Failure> {
    let purpose = match link {
        Link::PasswordReset => Purpose::PasswordReset,
        Link::Unlock => Purpose::Unlock,
    };
    let Some(account) = account_for(state, email).await? else {
        return Ok(());
    };
    let now = AppState::now();
    let policy = &state.settings.accounts.codes;
    let (token, code) = identity::issue_link(&account.id, purpose, policy, now);
    let minutes = (policy.ttl(purpose, identity::CodeKind::Link) + 59) / 60;
    let to = account.email.as_str();
    let message = match link {
        Link::PasswordReset => {
            let url = state.endpoint(&format!("/password/reset?token={}", token.expose()));
            messages::password_reset(&state.settings.mail, to, &url, minutes)
        }
        Link::Unlock => {
            let url = state.endpoint(&format!("/unlock/confirm?token={}", token.expose()));
            messages::unlock_account(&state.settings.mail, to, &url, minutes)
        }
    };
    state.db(move |s| s.issue_code_with_mail(&code, &message, now)).await?;
    state.outbox_waker.notify_one();
    Ok(())
}

/// Sends a 6-digit sign-in code to the account of `email`, if any.
pub async fn send_sign_in_code(state: &AppState, email: &str) -> Result<(), Failure> {
    let Some(account) = account_for(state, email).await? else {
        return Ok(());
    };
    let now = AppState::now();
    let policy = &state.settings.accounts.codes;
    let (code, row) =
        identity::issue_typed_code(&state.code_key, &account.id, Purpose::SignInCode, policy, now);
    let minutes = policy.typed_code_secs / 60;
    let message =
        messages::sign_in_code(&state.settings.mail, account.email.as_str(), code.expose(), minutes);
    state.db(move |s| s.issue_code_with_mail(&row, &message, now)).await?;
    state.outbox_waker.notify_one();
    Ok(())
}

/// Runs `work` after the response is sent; a failure is logged, the citizen already saw
/// "Email sent!" (which is shown either way).
pub fn in_background<F>(work: F)
where
    F: std::future::Future<Output = Result<(), Failure>> + 'static,
{
    actix_web::rt::spawn(async move {
        if let Err(e) = work.await {
            tracing::error!(error = %e, "sending mail failed");
        }
    });
}
