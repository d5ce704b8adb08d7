//! "Verify with your email": the 6-digit code mailed by the Email method (identifier-first
//! guide, step 4). Tries are limited per code; a wrong code, an expired one and an unknown
//! address get the same answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};

use super::{BLANK, StepForm, back_to_sign_in, check_csrf, render, signed_in};
use crate::flows;
use crate::flows::email_code::CodeSignIn;
use crate::http::error::Failure;
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
    match flows::email_code::verify(&state, &form.email, &presented, flows::session::client_ip(&req)).await? {
        // RFC 8176 "otp": a one-time password, here delivered by email.
        CodeSignIn::SignedIn(account) => {
            signed_in(&req, &state, &form, &account, "otp", AppState::now()).await
        }
        CodeSignIn::Wrong => {
            page(&state, &token, &form, Some(WRONG_CODE), HttpResponse::build(StatusCode::UNAUTHORIZED))
        }
        CodeSignIn::Locked(until) => {
            let message = identity::locked_message(until, AppState::now());
            page(&state, &token, &form, Some(&message), HttpResponse::build(StatusCode::FORBIDDEN))
        }
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
