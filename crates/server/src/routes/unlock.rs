//! "Unlock account?": email → "Email sent!" → the link → "Unlock account" (a button, so a mail
//! scanner that fetches links unlocks nothing) → unlocked, then sign in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};

use crate::flows;
use crate::flows::mail::Mailing;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::TokenForm;
use crate::routes::forgot::{EmailForm, send_link};
use crate::routes::signin::{ContinueQuery, back_to_sign_in, render};
use crate::state::AppState;

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, Failure> {
    let (token, builder) = csrf::forms::page(&req, &state);
    let back = back_to_sign_in(query.continue_to());
    let page = pages::Unlock {
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
        let page = pages::Unlock {
            csrf: form.csrf(),
            continue_to: form.continue_to(),
            email: form.email().trim(),
            error,
            back: &back,
        };
        render(builder, &page)
    };
    send_link(&req, &state, &form, Mailing::Unlock, "unlocking your account", again).await
}

pub async fn confirm_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenForm>,
) -> Result<HttpResponse, Failure> {
    if !flows::lockout::link_is_live(&state, &query.token).await? {
        return link_spent();
    }
    let (token, builder) = csrf::forms::page(&req, &state);
    render(builder, &pages::UnlockConfirm { csrf: &token, token: &query.token })
}

pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form.csrf, format!("/unlock/confirm?token={}", form.token))?;
    if !flows::lockout::unlock_with_link(&state, &form.token).await? {
        return link_spent();
    }
    render(
        HttpResponse::Ok(),
        &pages::Message {
            title: "Your account is unlocked",
            lines: &["You can sign in again."],
            link: Some(("/signin", "Back to sign in")),
        },
    )
}

fn link_spent() -> Result<HttpResponse, Failure> {
    render(
        HttpResponse::build(StatusCode::GONE),
        &pages::Message {
            title: "This link has expired",
            lines: &["Unlock links work once. If your account is still locked, ask for a new link."],
            link: Some(("/unlock", "Send me a new link")),
        },
    )
}
