//! "Change password" (311 guide, step 9: "PASSWORD", "SAVE"): the current password, then a new
//! one under every rule, history included. The current password is checked like a sign-in (one
//! argon2 verification, and a wrong one counts towards the lockout), so a borrowed browser
//! cannot be used to guess it. Success ends every other session and revokes the account's
//! tokens; this browser stays signed in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use serde::Deserialize;

use super::{PATH, citizen, client_ip, to_sign_in};
use crate::flows;
use crate::flows::profile::PasswordChange;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::{BLANK, render};
use crate::state::AppState;

const CHANGE: &str = "/profile/password";
const WRONG_CURRENT: &str = "The current password is incorrect.";

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

#[derive(Template)]
#[template(path = "profile_password.html")]
struct PasswordPage<'a> {
    csrf: &'a str,
    /// For password managers, which save the new password under it.
    email: &'a str,
    rules: &'a [String],
    current_error: Option<&'a str>,
    errors: &'a [String],
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let Some(me) = citizen(&req, &state, AppState::now()).await? else {
        return Ok(to_sign_in(CHANGE));
    };
    let (token, builder) = csrf::forms::page(&req, &state);
    form(builder, &state, &token, me.account.email.as_str(), None, &[])
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form_data: web::Form<PasswordForm>,
) -> Result<HttpResponse, Failure> {
    let f = form_data.into_inner();
    csrf::forms::check(&req, &state, &f.csrf, CHANGE.into())?;
    let now = AppState::now();
    let Some(me) = citizen(&req, &state, now).await? else {
        return Ok(to_sign_in(PATH));
    };
    let email = me.account.email.as_str();
    let invalid = || HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY);
    if f.current.is_empty() {
        return form(invalid(), &state, &f.csrf, email, Some(BLANK), &[]);
    }
    let (status, current_error, errors) = match flows::profile::change_password(
        &state,
        &me,
        &f.current,
        &f.password,
        &f.repeat,
        client_ip(&req),
    )
    .await?
    {
        PasswordChange::Changed => {
            return render(
                HttpResponse::Ok(),
                &pages::Message {
                    title: "Your password has been changed",
                    lines: &["You have been signed out everywhere else."],
                    link: Some((PATH, "Back to My Profile")),
                },
            );
        }
        PasswordChange::WrongCurrent => (StatusCode::UNAUTHORIZED, Some(WRONG_CURRENT.to_owned()), vec![]),
        PasswordChange::Locked(message) => (StatusCode::FORBIDDEN, Some(message), vec![]),
        PasswordChange::Rejected(errors) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
    };
    let builder = HttpResponse::build(status);
    form(builder, &state, &f.csrf, email, current_error.as_deref(), &errors)
}

fn form(
    builder: HttpResponseBuilder,
    state: &AppState,
    csrf: &str,
    email: &str,
    current_error: Option<&str>,
    errors: &[String],
) -> Result<HttpResponse, Failure> {
    let rules = state.password_rules.rules();
    render(builder, &PasswordPage { csrf, email, rules: &rules, current_error, errors })
}
