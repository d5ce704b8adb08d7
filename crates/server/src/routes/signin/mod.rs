//! The hosted identifier-first sign-in, in the guide's steps
//! (`atlcore-sign-in-guide-identifier-first.md`):
//!
//! ```text
//! GET /signin            "Sign in": Email address, Keep me signed in, Next, Unlock account?
//! POST /signin/identify  "Verify it's you with a security method":
//!                        Email o***e@… [Select], Password [Select]
//! POST /signin/method    password → "Verify with your password" (password.rs)
//!                        email    → a 6-digit code is mailed; "Verify with your email" (code.rs)
//! POST /signin/password  right → session, back to /authorize; wrong → one message; locked → how to unlock
//! POST /signin/code      right → session, back to /authorize; wrong → one message
//! ```
//!
//! The pending authorization request travels as `continue` (a path under `/authorize`), so no
//! node keeps state between the pages. Every form carries a CSRF token.

pub mod code;
pub mod password;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use identity::Throttle;
use serde::Deserialize;

use crate::flows;
use crate::flows::mail::Mailing;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::state::AppState;

pub(crate) const BLANK: &str = "This field cannot be left blank";

#[derive(Deserialize)]
pub struct ContinueQuery {
    #[serde(rename = "continue")]
    continue_to: Option<String>,
    login_hint: Option<String>,
    email: Option<String>,
}

impl ContinueQuery {
    pub fn continue_to(&self) -> &str {
        safe_continue(self.continue_to.as_deref())
    }

    pub fn email(&self) -> &str {
        self.email.as_deref().map_or("", str::trim)
    }
}

/// The fields every step of the sign-in carries forward.
#[derive(Deserialize)]
pub struct StepForm {
    pub csrf: String,
    #[serde(rename = "continue", default)]
    continue_to: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    keep: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    pub code: String,
}

impl StepForm {
    pub fn keep(&self) -> bool {
        self.keep == "1"
    }
    pub fn continue_to(&self) -> &str {
        safe_continue(Some(&self.continue_to))
    }
}

/// Only a return to this provider's authorization endpoint, or to its own profile pages
/// (`/profile`, `/profile/…`), is followed: anything else would make the sign-in pages an open
/// redirector.
pub fn safe_continue(raw: Option<&str>) -> &str {
    match raw {
        Some(path)
            if (path.starts_with("/authorize?") || path == "/profile" || path.starts_with("/profile/"))
                && !path.contains(['\\', '\r', '\n']) =>
        {
            path
        }
        _ => "",
    }
}

/// `path`, with the pending request and any extra pairs as its query.
pub fn link(path: &str, continue_to: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !continue_to.is_empty() {
        query.append_pair("continue", continue_to);
    }
    for (k, v) in extra.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(k, v);
    }
    match query.finish() {
        q if q.is_empty() => path.to_owned(),
        q => format!("{path}?{q}"),
    }
}

pub fn back_to_sign_in(continue_to: &str) -> String {
    link("/signin", continue_to, &[])
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
    let (token, builder) = csrf::forms::page(&req, &state);
    let unlock = link("/unlock", query.continue_to(), &[]);
    let signup = link("/signup", query.continue_to(), &[]);
    let providers = provider_buttons(&state);
    let page = pages::SignInEmail {
        providers: &providers,
        csrf: &token,
        unlock: &unlock,
        signup: &signup,
        continue_to: query.continue_to(),
        email: query.login_hint.as_deref().unwrap_or(""),
        keep: false,
        error: None,
    };
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
        let unlock = link("/unlock", form.continue_to(), &[]);
        let signup = link("/signup", form.continue_to(), &[]);
        let providers = provider_buttons(&state);
        let page = pages::SignInEmail {
            providers: &providers,
            csrf: &token,
            unlock: &unlock,
            signup: &signup,
            continue_to: form.continue_to(),
            email: "",
            keep: form.keep(),
            error: Some(BLANK),
        };
        return render(HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY), &page);
    }
    // Whether or not the email has an account, the next page is the same (DESIGN.md).
    let back = back_to_sign_in(form.continue_to());
    let masked = mail::mask_email(email);
    let page = pages::SignInMethod {
        csrf: &token,
        continue_to: form.continue_to(),
        email,
        masked: &masked,
        keep: form.keep(),
        back: &back,
    };
    render(HttpResponse::Ok(), &page)
}

/// "Select" on a method: the password page, or a mailed code and the code page.
pub async fn method(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    let token = check_csrf(&req, &state, &form)?;
    if form.method == "email" {
        // Issued after answering, so the answer's timing does not tell whether the account exists.
        return match flows::mail::request(&state, &form.email, Mailing::SignInCode).await? {
            Throttle::Allowed => code::page(&state, &token, &form, None, HttpResponse::Ok()),
            Throttle::Limited { retry_after } => {
                let wait = flows::mail::too_soon(retry_after);
                code::page(
                    &state,
                    &token,
                    &form,
                    Some(&wait),
                    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS),
                )
            }
        };
    }
    password::page(&token, &form, None, HttpResponse::Ok())
}

/// The "Sign in with …" buttons of the configured providers, in the guide's order.
pub fn provider_buttons(state: &AppState) -> Vec<pages::ProviderButton> {
    state
        .federation
        .providers()
        .into_iter()
        .map(|p| pages::ProviderButton { name: p.name, label: p.label })
        .collect()
}

/// Starts the session and returns to the authorization request (or says so, when there is none).
/// An account bound to an upstream provider is not signed in by a password or an emailed code:
/// the page names the provider and shows its button. Checked only after the password or code
/// proved right, so the page tells nothing to someone who does not own the account.
pub async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
    form: &StepForm,
    account: &identity::Account,
    amr: &str,
    now: i64,
) -> Result<HttpResponse, Failure> {
    if let Some(provider) = flows::federation::bound_provider(state, &account.id).await? {
        tracing::info!(account = %account.id, %provider, "local sign-in refused: the account signs in upstream");
        let (title, how, button) = crate::routes::federation::bound_elsewhere(state, &provider);
        let message = format!("You cannot use a password or an emailed code here: {how}");
        let back = back_to_sign_in(form.continue_to());
        let page = pages::SignInStopped {
            title: &title,
            message: &message,
            button: button.as_ref(),
            continue_to: form.continue_to(),
            back: &back,
        };
        return render(HttpResponse::build(StatusCode::FORBIDDEN), &page);
    }
    let cookie = flows::session::start(req, state, account, vec![amr.to_owned()], form.keep(), now).await?;
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

/// Checks the form's CSRF token against the browser's cookie and returns the token to carry on.
pub fn check_csrf(req: &HttpRequest, state: &AppState, form: &StepForm) -> Result<String, Failure> {
    csrf::forms::check(req, state, &form.csrf, back_to_sign_in(form.continue_to()))?;
    Ok(form.csrf.clone())
}

pub fn render(builder: HttpResponseBuilder, page: &impl Template) -> Result<HttpResponse, Failure> {
    let body = page.render().map_err(Failure::internal)?;
    Ok(pages::html(builder, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_authorization_endpoint_paths_are_followed() {
        assert_eq!(safe_continue(Some("/authorize?client_id=x")), "/authorize?client_id=x");
        for profile in ["/profile", "/profile/edit", "/profile/password"] {
            assert_eq!(safe_continue(Some(profile)), profile);
        }
        for bad in [
            "https://evil.example/authorize?x",
            "//evil.example",
            "/authorize",
            "/token?x",
            "/authorize?\r\nx",
            "/profiles",
            "/profile?x=https://evil.example",
            "https://evil.example/profile",
            "/profile/\\evil.example",
        ] {
            assert_eq!(safe_continue(Some(bad)), "", "{bad}");
        }
        assert_eq!(safe_continue(None), "");
    }

    #[test]
    fn links_keep_the_pending_request() {
        assert_eq!(back_to_sign_in(""), "/signin");
        assert_eq!(back_to_sign_in("/authorize?a=b"), "/signin?continue=%2Fauthorize%3Fa%3Db");
        assert_eq!(link("/password/forgot", "", &[("email", "a@x.org")]), "/password/forgot?email=a%40x.org");
        assert_eq!(link("/unlock", "", &[("email", "")]), "/unlock");
    }
}
