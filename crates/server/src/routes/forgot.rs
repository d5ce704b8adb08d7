//! "Forgot password?" (both ATLCORE guides): ask for the email ("Reset your password" →
//! "Reset via Email"), or confirm the one already typed ("Get a verification email" → "Send
//! me an email"); then "Email sent!" whether or not the address has an account.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use identity::Throttle;
use serde::Deserialize;

use crate::flows;
use crate::flows::mail::Mailing;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::{BLANK, ContinueQuery, back_to_sign_in, render, safe_continue};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct EmailForm {
    csrf: String,
    #[serde(rename = "continue", default)]
    continue_to: String,
    #[serde(default)]
    email: String,
}

impl EmailForm {
    pub fn continue_to(&self) -> &str {
        safe_continue(Some(&self.continue_to))
    }
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
    pub fn email(&self) -> &str {
        &self.email
    }
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, Failure> {
    let (token, builder) = csrf::forms::page(&req, &state);
    let back = back_to_sign_in(query.continue_to());
    let page = pages::Forgot {
        csrf: &token,
        continue_to: query.continue_to(),
        email: query.email(),
        error: None,
        back: &back,
    };
    render(builder, &page)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, Failure> {
    let back = back_to_sign_in(form.continue_to());
    let again = |builder: HttpResponseBuilder, error: Option<&str>| {
        let page = pages::Forgot {
            csrf: &form.csrf,
            continue_to: form.continue_to(),
            email: form.email.trim(),
            error,
            back: &back,
        };
        render(builder, &page)
    };
    send_link(&req, &state, &form, Mailing::PasswordReset, "resetting your password", again).await
}

/// The "email me a link" form ("Forgot password?", "Unlock account?"): a blank address shows the
/// form again; an address asked for a moment ago shows it with the wait; otherwise "Email sent!",
/// whether or not the address has an account. `again` renders the form with an error.
pub(crate) async fn send_link(
    req: &HttpRequest,
    state: &AppState,
    form: &EmailForm,
    what: Mailing,
    purpose: &str,
    again: impl Fn(HttpResponseBuilder, Option<&str>) -> Result<HttpResponse, Failure>,
) -> Result<HttpResponse, Failure> {
    let back = back_to_sign_in(form.continue_to());
    csrf::forms::check(req, state, &form.csrf, back.clone())?;
    let email = form.email.trim();
    if email.is_empty() {
        return again(HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY), Some(BLANK));
    }
    match flows::mail::request(state, email, what).await? {
        Throttle::Allowed => render(HttpResponse::Ok(), &pages::EmailSent { email, purpose, back: &back }),
        Throttle::Limited { retry_after } => {
            let wait = flows::mail::too_soon(retry_after);
            again(HttpResponse::build(StatusCode::TOO_MANY_REQUESTS), Some(&wait))
        }
    }
}
