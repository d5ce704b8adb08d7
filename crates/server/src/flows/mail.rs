//! Emailed links and codes: issue the code and queue its message in one transaction, then wake
//! the worker. Callers run these in the background after answering, so the time a response
//! takes never tells whether the address has an account.

use identity::{Account, AccountStore, CodeKind, Email, Purpose, Throttle, ThrottleStore};
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

/// What a citizen can ask to be mailed, by typing an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mailing {
    /// "Forgot password?": a "Reset password" link.
    PasswordReset,
    /// "Unlock account?": an "Unlock account" link.
    Unlock,
    /// The Email method (and "Resend code"): a 6-digit sign-in code.
    SignInCode,
}

impl Mailing {
    fn purpose(self) -> Purpose {
        match self {
            Self::PasswordReset => Purpose::PasswordReset,
            Self::Unlock => Purpose::Unlock,
            Self::SignInCode => Purpose::SignInCode,
        }
    }
}

/// Asks for `what` to be mailed to `email`. The address is throttled first (whether or not it
/// has an account, so the answer tells nothing); if allowed, the code is issued and mailed
/// after the caller has answered, to an account only if there is one.
pub async fn request(state: &AppState, email: &str, what: Mailing) -> Result<Throttle, Failure> {
    let throttle = throttle(state, what.purpose(), email).await?;
    if throttle == Throttle::Allowed {
        let (background, address) = (state.clone(), email.trim().to_owned());
        in_background(async move { send(&background, &address, what).await });
    }
    Ok(throttle)
}

/// What a page or the API says when [`request`] was throttled.
pub fn too_soon(retry_after: i64) -> String {
    let wait = wait_text(retry_after);
    format!(
        "We sent an email to this address a moment ago. Check your inbox and junk folder, or ask again in {wait}."
    )
}

/// "a second", "40 seconds", "3 minutes".
pub fn wait_text(retry_after: i64) -> String {
    match retry_after {
        ..=1 => "a second".to_owned(),
        2..=90 => format!("{retry_after} seconds"),
        _ => format!("{} minutes", (retry_after + 59) / 60),
    }
}

/// Counts a mail of `purpose` to `email` against the resend limits
/// (`accounts.codes.resend_interval_secs`, `sends_per_hour`).
pub async fn throttle(state: &AppState, purpose: Purpose, email: &str) -> Result<Throttle, Failure> {
    let (key, policy, now) =
        (identity::mail_key(purpose, email), state.settings.accounts.codes.mail_throttle(), AppState::now());
    state.db(move |s| s.hit(&key, &policy, now)).await
}

/// Issues `what` for the account of `email`, if any, and queues its message in the same
/// transaction.
async fn send(state: &AppState, email: &str, what: Mailing) -> Result<(), Failure> {
    let Some(account) = account_for(state, email).await? else {
        return Ok(());
    };
    let (now, policy, mail) = (AppState::now(), &state.settings.accounts.codes, &state.settings.mail);
    let to = account.email.as_str();
    let link =
        |path: &str, token: &tokens::OpaqueToken| state.endpoint(&format!("{path}?token={}", token.expose()));
    let minutes = |kind| (policy.ttl(what.purpose(), kind) + 59) / 60;
    let (row, message) = match what {
        Mailing::PasswordReset => {
            let (token, row) = identity::issue_link(&account.id, Purpose::PasswordReset, policy, now);
            let url = link("/password/reset", &token);
            (row, messages::password_reset(mail, to, &url, minutes(CodeKind::Link)))
        }
        Mailing::Unlock => {
            let (token, row) = identity::issue_link(&account.id, Purpose::Unlock, policy, now);
            let url = link("/unlock/confirm", &token);
            (row, messages::unlock_account(mail, to, &url, minutes(CodeKind::Link)))
        }
        Mailing::SignInCode => {
            let (code, row) =
                identity::issue_typed_code(&state.code_key, &account.id, Purpose::SignInCode, policy, now);
            (row, messages::sign_in_code(mail, to, code.expose(), minutes(CodeKind::Typed)))
        }
    };
    state.db(move |s| s.issue_code_with_mail(&row, &message, now)).await?;
    state.outbox_waker.notify_one();
    Ok(())
}

/// The notice that `account`'s password was changed `by` the profile or a reset link, with a
/// "Forgot password?" link that has the address filled in. Queue it with the change
/// (`Store::change_password_with_notice`), then wake the worker (`state.outbox_waker`).
pub fn password_changed_notice(
    state: &AppState,
    account: &Account,
    by: messages::PasswordChangedBy,
    now: i64,
) -> mail::OutgoingMessage {
    let to = account.email.as_str();
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("email", to).finish();
    let forgot = state.endpoint(&format!("/password/forgot?{query}"));
    messages::password_changed(&state.settings.mail, to, by, now, &forgot)
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
