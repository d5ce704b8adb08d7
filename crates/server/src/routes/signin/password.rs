//! "Verify with your password" (identifier-first guide, step 5).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use identity::SignInOutcome;

use super::{BLANK, StepForm, back_to_sign_in, check_csrf, link, render, signed_in};
use crate::flows;
use crate::http::error::Failure;
use crate::pages;
use crate::state::AppState;

/// Shown for an unknown email and a wrong password alike.
const WRONG_CREDENTIALS: &str = "The email address or password is incorrect. Check them and try again.";

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    let token = check_csrf(&req, &state, &form)?;
    if form.password.is_empty() {
        return page(&token, &form, Some(BLANK), HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY));
    }
    let now = AppState::now();
    let outcome =
        flows::password::sign_in(&state, &form.email, &form.password, flows::session::client_ip(&req))
            .await?;
    crate::http::metrics::sign_in(crate::http::metrics::SignInMethod::Password, &outcome);
    match outcome {
        SignInOutcome::Authenticated(account) => signed_in(&req, &state, &form, &account, "pwd", now).await,
        SignInOutcome::Locked { until } => {
            let message = identity::locked_message(until, now);
            page(&token, &form, Some(&message), HttpResponse::build(StatusCode::FORBIDDEN))
        }
        SignInOutcome::Invalid { .. } => {
            page(&token, &form, Some(WRONG_CREDENTIALS), HttpResponse::build(StatusCode::UNAUTHORIZED))
        }
    }
}

pub fn page(
    token: &str,
    form: &StepForm,
    error: Option<&str>,
    builder: HttpResponseBuilder,
) -> Result<HttpResponse, Failure> {
    let back = back_to_sign_in(form.continue_to());
    let email = form.email.trim();
    let forgot = link("/password/forgot", form.continue_to(), &[("email", email)]);
    let page = pages::SignInPassword {
        csrf: token,
        continue_to: form.continue_to(),
        email,
        keep: form.keep(),
        error,
        forgot: &forgot,
        back: &back,
    };
    render(builder, &page)
}
