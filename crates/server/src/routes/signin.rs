//! The hosted identifier-first sign-in, in the guide's steps
//! (`atlcore-sign-in-guide-identifier-first.md`):
//!
//! ```text
//! GET /signin            "Sign in": Email address, Keep me signed in, Next
//! POST /signin/identify  "Verify it's you with a security method": Password [Select]
//! POST /signin/method    "Verify with your password": Password, Verify, Forgot password?
//! POST /signin/password  right → session cookie, back to /authorize; wrong → same page, one message
//! ```
//!
//! The pending authorization request travels as `continue` (a path under `/authorize`), so no
//! node keeps state between the pages. Every form carries a CSRF token.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use identity::SignIn;
use serde::Deserialize;

use crate::flows;
use crate::http::error::Failure;
use crate::http::{cookies, csrf};
use crate::pages;
use crate::state::AppState;

/// Shown for an unknown email and a wrong password alike.
const WRONG_CREDENTIALS: &str = "The email address or password is incorrect. Check them and try again.";
const BLANK: &str = "This field cannot be left blank";

#[derive(Deserialize)]
pub struct ContinueQuery {
    #[serde(rename = "continue")]
    continue_to: Option<String>,
    login_hint: Option<String>,
}

impl ContinueQuery {
    pub fn continue_to(&self) -> &str {
        safe_continue(self.continue_to.as_deref())
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    #[serde(rename = "continue", default)]
    continue_to: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    keep: String,
    #[serde(default)]
    password: String,
}

impl StepForm {
    fn keep(&self) -> bool {
        self.keep == "1"
    }
    fn continue_to(&self) -> &str {
        safe_continue(Some(&self.continue_to))
    }
}

/// Only a return to this provider's authorization endpoint is followed: anything else would
/// make the sign-in pages an open redirector.
fn safe_continue(raw: Option<&str>) -> &str {
    match raw {
        Some(path) if path.starts_with("/authorize?") && !path.contains(['\\', '\r', '\n']) => path,
        _ => "",
    }
}

pub fn back_to_sign_in(continue_to: &str) -> String {
    if continue_to.is_empty() {
        return "/signin".into();
    }
    let query: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("continue", continue_to).finish();
    format!("/signin?{query}")
}

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(16 * 1024).error_handler(|_, _| {
        Failure::page(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            "The form was incomplete. Please start again.",
        )
        .with_back("/signin".into())
        .into()
    })
}

pub async fn email_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, Failure> {
    let (cookie_value, fresh) = match cookies::value(&req, cookies::CSRF) {
        Some(v) => (v, false),
        None => (csrf::new_cookie_value(), true),
    };
    let token = state.csrf.token_for(&cookie_value);
    let page = pages::SignInEmail {
        csrf: &token,
        continue_to: query.continue_to(),
        email: query.login_hint.as_deref().unwrap_or(""),
        keep: false,
        error: None,
    };
    let mut builder = HttpResponse::Ok();
    if fresh {
        builder.cookie(cookies::build(cookies::CSRF, cookie_value, state.secure_cookies(), None));
    }
    render(builder, &page)
}

pub async fn identify(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    let token = check_csrf(&req, &state, &form)?;
    let email = form.email.trim();
    if email.is_empty() {
        let page = pages::SignInEmail {
            csrf: &token,
            continue_to: form.continue_to(),
            email: "",
            keep: form.keep(),
            error: Some(BLANK),
        };
        return render(HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY), &page);
    }
    // Whether or not the email has an account, the next page is the same (DESIGN.md).
    let back = back_to_sign_in(form.continue_to());
    let page = pages::SignInMethod {
        csrf: &token,
        continue_to: form.continue_to(),
        email,
        keep: form.keep(),
        back: &back,
    };
    render(HttpResponse::Ok(), &page)
}

pub async fn method(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    let token = check_csrf(&req, &state, &form)?;
    password_page(&token, &form, None, HttpResponse::Ok())
}

pub async fn password(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    let token = check_csrf(&req, &state, &form)?;
    if form.password.is_empty() {
        return password_page(
            &token,
            &form,
            Some(BLANK),
            HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY),
        );
    }
    let now = AppState::now();
    match flows::password::sign_in(&state, &form.email, &form.password).await? {
        SignIn::Authenticated(account) => {
            let cookie =
                flows::session::start(&req, &state, &account, vec!["pwd".into()], form.keep(), now).await?;
            if form.continue_to().is_empty() {
                let mut builder = HttpResponse::Ok();
                builder.cookie(cookie);
                return render(builder, &pages::SignedIn { email: account.email.as_str() });
            }
            Ok(HttpResponse::SeeOther()
                .cookie(cookie)
                .insert_header((header::LOCATION, form.continue_to()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish())
        }
        SignIn::Invalid => password_page(
            &token,
            &form,
            Some(WRONG_CREDENTIALS),
            HttpResponse::build(StatusCode::UNAUTHORIZED),
        ),
    }
}

fn password_page(
    token: &str,
    form: &StepForm,
    error: Option<&str>,
    builder: HttpResponseBuilder,
) -> Result<HttpResponse, Failure> {
    let back = back_to_sign_in(form.continue_to());
    let forgot = match form.continue_to() {
        "" => "/password/forgot".to_owned(),
        c => format!(
            "/password/forgot?{}",
            url::form_urlencoded::Serializer::new(String::new()).append_pair("continue", c).finish()
        ),
    };
    let page = pages::SignInPassword {
        csrf: token,
        continue_to: form.continue_to(),
        email: form.email.trim(),
        keep: form.keep(),
        error,
        forgot: &forgot,
        back: &back,
    };
    render(builder, &page)
}

/// Checks the form's CSRF token against the browser's cookie and returns the token to carry on.
fn check_csrf(req: &HttpRequest, state: &AppState, form: &StepForm) -> Result<String, Failure> {
    let expired = || {
        Failure::page(
            StatusCode::FORBIDDEN,
            "This page has expired",
            "For your security, the sign-in page expired. Please start again.",
        )
        .with_back(back_to_sign_in(form.continue_to()))
    };
    let cookie = cookies::value(req, cookies::CSRF).ok_or_else(expired)?;
    if !state.csrf.verify(&cookie, &form.csrf) {
        return Err(expired());
    }
    Ok(form.csrf.clone())
}

fn render(builder: HttpResponseBuilder, page: &impl Template) -> Result<HttpResponse, Failure> {
    let body = page.render().map_err(Failure::internal)?;
    Ok(pages::html(builder, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_authorization_endpoint_paths_are_followed() {
        assert_eq!(safe_continue(Some("/authorize?client_id=x")), "/authorize?client_id=x");
        for bad in [
            "https://evil.example/authorize?x",
            "//evil.example",
            "/authorize",
            "/token?x",
            "/authorize?\r\nx",
        ] {
            assert_eq!(safe_continue(Some(bad)), "", "{bad}");
        }
        assert_eq!(safe_continue(None), "");
    }

    #[test]
    fn back_link_keeps_the_pending_request() {
        assert_eq!(back_to_sign_in(""), "/signin");
        assert_eq!(back_to_sign_in("/authorize?a=b"), "/signin?continue=%2Fauthorize%3Fa%3Db");
    }
}
