//! "Change password" (311 guide, step 9: "PASSWORD", "SAVE"): the current password, then a new
//! one under every rule, history included. The current password is checked like a sign-in (one
//! argon2 verification, and a wrong one counts towards the lockout), so a borrowed browser
//! cannot be used to guess it. Success ends every other session and revokes the account's
//! tokens; this browser stays signed in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use identity::{NewAuditEvent, PasswordHistoryStore, RevocationStore, SignInOutcome};
use serde::Deserialize;

use super::{PATH, audit, citizen, client_ip, to_sign_in};
use crate::flows;
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
    if f.password != f.repeat {
        return form(invalid(), &state, &f.csrf, email, None, &["The passwords do not match.".into()]);
    }
    let account = &me.account;
    match flows::password::sign_in(&state, account.email.as_str(), &f.current).await? {
        SignInOutcome::Authenticated(a) if a.id == account.id => {}
        SignInOutcome::Locked { until } => {
            let message = identity::locked_message(until, now);
            return form(
                HttpResponse::build(StatusCode::FORBIDDEN),
                &state,
                &f.csrf,
                email,
                Some(&message),
                &[],
            );
        }
        _ => {
            return form(
                HttpResponse::build(StatusCode::UNAUTHORIZED),
                &state,
                &f.csrf,
                email,
                Some(WRONG_CURRENT),
                &[],
            );
        }
    }
    let new_hash = match flows::password::check_new(&state, account, &f.password).await? {
        Ok(hash) => hash,
        Err(errors) => return form(invalid(), &state, &f.csrf, email, None, &errors),
    };
    let depth = state.password_rules.effective_history_depth();
    let (id, keep) = (account.id.clone(), me.session.id.clone());
    state
        .db(move |s| {
            s.change_password(&id, &new_hash, depth, now)?;
            s.revoke_account_access(&id, Some(&keep), now)
        })
        .await?;
    audit(&state, NewAuditEvent::password_changed(&account.id, client_ip(&req), now)).await?;
    render(
        HttpResponse::Ok(),
        &pages::Message {
            title: "Your password has been changed",
            lines: &["You have been signed out everywhere else."],
            link: Some((PATH, "Back to My Profile")),
        },
    )
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
