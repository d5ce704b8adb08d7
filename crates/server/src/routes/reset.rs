//! The "Reset password" link (first-edition guide, steps 12–15): the rules, "New password",
//! "Repeat password". The link is only looked at until the new password passes every rule, then
//! spent; success ends every session of the account and revokes its tokens, and lifts a lockout.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::flows;
use crate::flows::password::Reset;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::TokenForm;
use crate::routes::signin::render;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenForm>,
) -> Result<HttpResponse, Failure> {
    if !flows::password::reset_link_is_live(&state, &query.token).await? {
        return link_spent();
    }
    let (token, builder) = csrf::forms::page(&req, &state);
    form_page(builder, &state, &token, &query.token, &[])
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, Failure> {
    let back = format!("/password/reset?token={}", form.token);
    csrf::forms::check(&req, &state, &form.csrf, back)?;
    if form.password != form.repeat {
        let invalid = HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY);
        return form_page(invalid, &state, &form.csrf, &form.token, &["The passwords do not match.".into()]);
    }
    match flows::password::reset_with_link(&state, &form.token, &form.password).await? {
        Reset::Done => {}
        Reset::LinkSpent => return link_spent(),
        Reset::Rejected(errors) => {
            let invalid = HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY);
            return form_page(invalid, &state, &form.csrf, &form.token, &errors);
        }
    }
    render(
        HttpResponse::Ok(),
        &pages::Message {
            title: "Your password has been reset",
            lines: &["Sign in with your new password. You have been signed out everywhere else."],
            link: Some(("/signin", "Back to sign in")),
        },
    )
}

fn form_page(
    builder: actix_web::HttpResponseBuilder,
    state: &AppState,
    csrf: &str,
    token: &str,
    errors: &[String],
) -> Result<HttpResponse, Failure> {
    let rules = state.password_rules.rules();
    render(builder, &pages::Reset { csrf, token, rules: &rules, errors })
}

/// A used, expired or unknown link: say so, and offer a new one.
fn link_spent() -> Result<HttpResponse, Failure> {
    render(
        HttpResponse::build(StatusCode::GONE),
        &pages::Message {
            title: "This link has expired",
            lines: &[
                "Password reset links work once, for a limited time.",
                "If you still need to reset your password, ask for a new link.",
            ],
            link: Some(("/password/forgot", "Send me a new link")),
        },
    )
}
