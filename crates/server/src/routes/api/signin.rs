//! Signing in (a password, or an emailed 6-digit code) and the session it starts: the same
//! session cookie the hosted pages set, so `/authorize` sees the citizen signed in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use identity::{Account, SignInOutcome};
use serde::{Deserialize, Serialize};

use super::account::{EmailRequest, request_mail};
use super::{ApiError, ok};
use crate::flows;
use crate::flows::email_code::CodeSignIn;
use crate::flows::mail::Mailing;
use crate::flows::session::client_ip;
use crate::http::error::Failure;
use crate::http::metrics::{self, SignInMethod};
use crate::routes::signout::clear_session_cookie;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// "Keep me signed in".
    #[serde(default)]
    keep_signed_in: bool,
}

/// Who a session belongs to, as the API shows it.
#[derive(Serialize)]
struct SessionView<'a> {
    sub: &'a str,
    email: &'a str,
    auth_time: i64,
    amr: &'a [String],
    expires_at: i64,
    keep_signed_in: bool,
}

pub async fn password(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PasswordRequest>,
) -> Result<HttpResponse, Failure> {
    let now = AppState::now();
    let outcome =
        flows::password::sign_in(&state, body.email.trim(), &body.password, client_ip(&req)).await?;
    metrics::sign_in(SignInMethod::Password, &outcome);
    match outcome {
        SignInOutcome::Authenticated(account) => {
            signed_in(&req, &state, &account, "pwd", body.keep_signed_in, now).await
        }
        SignInOutcome::Locked { until } => Err(locked(until, now).into()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The email address or password is incorrect.",
        )
        .into()),
    }
}

/// 403 `account_locked`; `retry_after` when the lock ends by itself (not an operator's).
fn locked(until: i64, now: i64) -> ApiError {
    let retry_after = (until != identity::OPERATOR_LOCK).then(|| (until - now).max(1));
    ApiError {
        retry_after,
        ..ApiError::new(StatusCode::FORBIDDEN, "account_locked", identity::locked_message(until, now))
    }
}

pub async fn send_code(
    state: web::Data<AppState>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, Failure> {
    request_mail(&state, &body.email, Mailing::SignInCode).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    keep_signed_in: bool,
}

pub async fn verify_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CodeRequest>,
) -> Result<HttpResponse, Failure> {
    match flows::email_code::verify(&state, body.email.trim(), &body.code, client_ip(&req)).await? {
        // RFC 8176 "otp": a one-time password, here delivered by email.
        CodeSignIn::SignedIn(account) => {
            signed_in(&req, &state, &account, "otp", body.keep_signed_in, AppState::now()).await
        }
        CodeSignIn::Locked(until) => Err(locked(until, AppState::now()).into()),
        CodeSignIn::Wrong => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "That code is not valid or has expired. Check it, or send a new code.",
        )
        .into()),
    }
}

async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
    account: &Account,
    amr: &str,
    keep: bool,
    now: i64,
) -> Result<HttpResponse, Failure> {
    // The first-method rule, as on the hosted pages (routes/signin::signed_in).
    if let Some(provider) = flows::federation::bound_provider(state, &account.id).await? {
        let label = flows::federation::method_label(state, &provider);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "use_upstream_provider",
            format!("This account signs in with {label}: use \"Sign in with {label}\"."),
        )
        .into());
    }
    let amr = vec![amr.to_owned()];
    let cookie = flows::session::start(req, state, account, amr.clone(), keep, now).await?;
    let sessions = &state.settings.sessions;
    let view = SessionView {
        sub: account.id.as_str(),
        email: account.email.as_str(),
        auth_time: now,
        amr: &amr,
        expires_at: now + if keep { sessions.persistent_ttl } else { sessions.ttl },
        keep_signed_in: keep,
    };
    let mut response = ok(StatusCode::OK, &view);
    response.add_cookie(&cookie).map_err(Failure::internal)?;
    Ok(response)
}

pub async fn session(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let Some(me) = flows::session::citizen(&req, &state, AppState::now()).await? else {
        return Err(ApiError::not_signed_in().into());
    };
    let s = &me.session;
    let view = SessionView {
        sub: me.account.id.as_str(),
        email: me.account.email.as_str(),
        auth_time: s.auth_time,
        amr: &s.amr,
        expires_at: s.expires_at,
        keep_signed_in: s.persistent,
    };
    Ok(ok(StatusCode::OK, &view))
}

/// Ends this browser's session (204 whether or not there was one) and clears its cookie; the
/// session's portals are told by back-channel logout.
pub async fn sign_out(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    flows::logout::end_session(&req, &state, AppState::now()).await?;
    Ok(HttpResponse::NoContent().cookie(clear_session_cookie(&state)).finish())
}
