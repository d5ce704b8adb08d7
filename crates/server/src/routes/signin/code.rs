//! "Verify with your email": the 6-digit code mailed by the Email method (identifier-first
//! guide, step 4). Tries are limited per code; a wrong code, an expired one and an unknown
//! address get the same answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use identity::{Consume, OneTimeCodeStore, Purpose};

use super::{BLANK, StepForm, back_to_sign_in, check_csrf, render, signed_in};
use crate::flows;
use crate::http::error::Failure;
use crate::http::metrics::{self, SignInMethod, SignInResult};
use crate::pages;
use crate::state::AppState;

const WRONG_CODE: &str = "That code is not valid or has expired. Check it, or send a new code.";

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    let token = check_csrf(&req, &state, &form)?;
    let presented = form.code.trim().to_owned();
    if presented.is_empty() {
        return page(
            &state,
            &token,
            &form,
            Some(BLANK),
            HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY),
        );
    }
    let now = AppState::now();
    let Some(account) = flows::mail::account_for(&state, &form.email).await? else {
        metrics::sign_in(SignInMethod::EmailCode, SignInResult::Failure);
        return page(&state, &token, &form, Some(WRONG_CODE), HttpResponse::build(StatusCode::UNAUTHORIZED));
    };
    let id = account.id.clone();
    let hash = state.code_key.hash(&id, Purpose::SignInCode, &presented);
    let max_tries = state.settings.accounts.codes.typed_code_max_tries;
    let outcome =
        state.db(move |s| s.attempt_typed_code(&id, Purpose::SignInCode, &hash, now, max_tries)).await?;
    metrics::sign_in(SignInMethod::EmailCode, matches!(outcome, Consume::Accepted { .. }));
    match outcome {
        // RFC 8176 "otp": a one-time password, here delivered by email.
        Consume::Accepted { .. } => signed_in(&req, &state, &form, &account, "otp", now).await,
        _ => page(&state, &token, &form, Some(WRONG_CODE), HttpResponse::build(StatusCode::UNAUTHORIZED)),
    }
}

pub fn page(
    state: &AppState,
    token: &str,
    form: &StepForm,
    error: Option<&str>,
    builder: HttpResponseBuilder,
) -> Result<HttpResponse, Failure> {
    let back = back_to_sign_in(form.continue_to());
    let email = form.email.trim();
    let masked = mail::mask_email(email);
    let page = pages::SignInCode {
        csrf: token,
        continue_to: form.continue_to(),
        email,
        masked: &masked,
        keep: form.keep(),
        minutes: state.settings.accounts.codes.typed_code_secs / 60,
        error,
        back: &back,
    };
    render(builder, &page)
}
