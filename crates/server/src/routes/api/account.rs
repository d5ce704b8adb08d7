//! Accounts without a session: sign-up and its verification link, "Forgot password?" and the
//! reset link, "Unlock account?" and the unlock link. Whether an address has an account is
//! never told: a well-formed request for mail is always 202.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use identity::{CompleteRegistration, SignUpForm, Throttle};
use serde::Deserialize;

use super::{ApiError, FieldProblem, accepted, ok};
use crate::flows;
use crate::flows::mail::Mailing;
use crate::flows::password::Reset;
use crate::flows::signup::SignUp;
use crate::http::error::Failure;
use crate::state::AppState;

pub async fn password_rules(state: web::Data<AppState>) -> HttpResponse {
    ok(StatusCode::OK, &serde_json::json!({ "rules": state.password_rules.rules() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    password: String,
}

pub async fn sign_up(
    state: web::Data<AppState>,
    body: web::Json<SignUpRequest>,
) -> Result<HttpResponse, Failure> {
    let body = body.into_inner();
    let form = SignUpForm {
        email: body.email,
        given_name: body.given_name,
        family_name: body.family_name,
        // An API client checks the repetition itself, if it asks for one.
        repeat: body.password.clone(),
        password: body.password,
    };
    match flows::signup::start(&state, &form).await? {
        SignUp::Sent(_) => Ok(accepted("email_sent")),
        SignUp::Invalid(errors) => Err(ApiError::invalid(
            errors.into_iter().map(|e| FieldProblem { field: e.field.into(), message: e.message }).collect(),
        )
        .into()),
        SignUp::TooSoon { retry_after } => Err(ApiError::too_soon(retry_after).into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[serde(default)]
    token: String,
}

pub async fn verify(
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, Failure> {
    let result = match flows::signup::verify(&state, &body.token).await? {
        None => return Err(ApiError::link_expired().into()),
        Some(CompleteRegistration::Created(_)) => "created",
        Some(CompleteRegistration::Claimed(_)) => "claimed",
        Some(CompleteRegistration::AlreadyActive) => "already_active",
    };
    Ok(ok(StatusCode::OK, &serde_json::json!({ "result": result })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[serde(default)]
    pub email: String,
}

/// 202 whether or not the address has an account; 429 when it was sent one a moment ago.
pub async fn request_mail(state: &AppState, email: &str, what: Mailing) -> Result<HttpResponse, Failure> {
    let email = email.trim();
    if email.is_empty() {
        let blank = FieldProblem { field: "email".into(), message: crate::routes::signin::BLANK.into() };
        return Err(ApiError::invalid(vec![blank]).into());
    }
    match flows::mail::request(state, email, what).await? {
        Throttle::Allowed => Ok(accepted("email_sent")),
        Throttle::Limited { retry_after } => Err(ApiError::too_soon(retry_after).into()),
    }
}

pub async fn forgot(
    state: web::Data<AppState>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, Failure> {
    request_mail(&state, &body.email, Mailing::PasswordReset).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

pub async fn reset(
    state: web::Data<AppState>,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, Failure> {
    match flows::password::reset_with_link(&state, &body.token, &body.password).await? {
        Reset::Done => Ok(ok(StatusCode::OK, &serde_json::json!({ "status": "password_reset" }))),
        Reset::LinkSpent => Err(ApiError::link_expired().into()),
        Reset::Rejected(errors) => Err(password_problems("password", errors).into()),
    }
}

/// 422 listing every password rule broken, on `field`.
pub fn password_problems(field: &str, errors: Vec<String>) -> ApiError {
    ApiError::invalid(
        errors.into_iter().map(|message| FieldProblem { field: field.into(), message }).collect(),
    )
}

pub async fn unlock(
    state: web::Data<AppState>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, Failure> {
    request_mail(&state, &body.email, Mailing::Unlock).await
}

pub async fn unlock_confirm(
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, Failure> {
    if !flows::lockout::unlock_with_link(&state, &body.token).await? {
        return Err(ApiError::link_expired().into());
    }
    Ok(ok(StatusCode::OK, &serde_json::json!({ "status": "unlocked" })))
}
