//! `POST /federation/{provider}/start` ("Sign in with Google" on the sign-in page: a button of
//! the page's one form, so "Keep me signed in" comes along), `GET /federation/{provider}/start`
//! (the button of a "use the way you signed in before" page), and
//! `GET /federation/{provider}/callback` (where the provider sends the browser back; Apple
//! POSTs there instead). The flow is in `flows::federation`; every way it stops is a page with
//! "Back to sign in", logged.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use federation::{Callback, FederationError};
use identity::Refusal;
use serde::Deserialize;

use crate::flows::federation::{self as flow, Stopped};
use crate::http::cookies;
use crate::http::error::Failure;
use crate::pages::{self, ProviderButton, SignInStopped};
use crate::routes::signin::{StepForm, back_to_sign_in, check_csrf, render, safe_continue};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(rename = "continue")]
    continue_to: Option<String>,
    keep: Option<String>,
}

/// A malformed callback or start query is a page too, not actix's plain text.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| {
        tracing::warn!(error = %e, "malformed upstream sign-in query");
        Failure::page(
            StatusCode::BAD_REQUEST,
            "We could not sign you in",
            "The link was incomplete. Please start again.",
        )
        .with_back("/signin".into())
        .into()
    })
}

pub async fn start(
    state: web::Data<AppState>,
    provider: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, Failure> {
    let continue_to = safe_continue(query.continue_to.as_deref());
    let keep = query.keep.as_deref() == Some("1");
    begin(&state, &provider, continue_to, keep, StatusCode::FOUND).await
}

/// A provider button of the sign-in page's form (`formaction`): the form's CSRF token, the
/// pending request and "Keep me signed in", whatever else the form holds.
pub async fn start_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, Failure> {
    check_csrf(&req, &state, &form)?;
    // RFC 9110 §15.4.4: 303 makes the browser GET the provider's authorization URL.
    begin(&state, &provider, form.continue_to(), form.keep(), StatusCode::SEE_OTHER).await
}

async fn begin(
    state: &AppState,
    provider: &str,
    continue_to: &str,
    keep: bool,
    status: StatusCode,
) -> Result<HttpResponse, Failure> {
    match flow::start(state, provider, continue_to, keep).await? {
        Ok(started) => Ok(HttpResponse::build(status)
            .cookie(started.binding)
            .insert_header((header::LOCATION, started.location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()),
        Err(e) => stopped(state, provider, Stopped::Failed(e), continue_to),
    }
}

/// A malformed form post (Apple's answer) is a page too.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().error_handler(|e, _| {
        tracing::warn!(error = %e, "malformed upstream sign-in form post");
        Failure::page(
            StatusCode::BAD_REQUEST,
            "We could not sign you in",
            "The answer was incomplete. Please start again.",
        )
        .with_back("/signin".into())
        .into()
    })
}

pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    query: web::Query<Callback>,
) -> Result<HttpResponse, Failure> {
    finish(&req, &state, &provider, &query, false).await
}

/// `POST /federation/{provider}/callback`: Apple's `response_mode=form_post` answer, a
/// cross-site POST of `code`, `state` and, the first time only, `user`.
pub async fn callback_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    form: web::Form<Callback>,
) -> Result<HttpResponse, Failure> {
    finish(&req, &state, &provider, &form, true).await
}

async fn finish(
    req: &HttpRequest,
    state: &AppState,
    provider: &str,
    params: &Callback,
    posted: bool,
) -> Result<HttpResponse, Failure> {
    let outcome = flow::callback(req, state, provider, params, posted).await?;
    let continue_to = safe_continue(Some(&outcome.continue_to));
    let mut response = match outcome.result {
        Ok((session, account)) => {
            let mut builder =
                if continue_to.is_empty() { HttpResponse::Ok() } else { HttpResponse::SeeOther() };
            builder.cookie(session).insert_header((header::CACHE_CONTROL, "no-store"));
            if continue_to.is_empty() {
                render(builder, &pages::SignedIn { email: account.email.as_str() })?
            } else {
                builder.insert_header((header::LOCATION, continue_to)).finish()
            }
        }
        Err(stop) => stopped(state, provider, stop, continue_to)?,
    };
    // The binding cookie has done its work either way.
    response.add_cookie(&cookies::federation_removal(state.secure_cookies())).map_err(Failure::internal)?;
    Ok(response)
}

/// The page for an upstream sign-in that stopped; logged here, once.
fn stopped(
    state: &AppState,
    provider: &str,
    stop: Stopped,
    continue_to: &str,
) -> Result<HttpResponse, Failure> {
    let label = state.federation.provider(provider).map_or_else(|| provider.to_owned(), |p| p.label);
    let back = back_to_sign_in(continue_to);
    let (status, title, message, button) = match &stop {
        Stopped::Failed(e) => {
            tracing::warn!(provider, error = %e, "upstream sign-in failed");
            let status = match e {
                FederationError::UnknownProvider(_) => StatusCode::NOT_FOUND,
                FederationError::Unreachable(_) => StatusCode::BAD_GATEWAY,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, e.title().to_owned(), e.message(&label), None)
        }
        Stopped::Refused(refusal) => {
            tracing::info!(provider, refusal = ?refusal, "upstream sign-in refused by the binding rule");
            refused(state, provider, &label, refusal)
        }
    };
    let page =
        SignInStopped { title: &title, message: &message, button: button.as_ref(), continue_to, back: &back };
    render(HttpResponse::build(status), &page)
}

fn refused(
    state: &AppState,
    provider: &str,
    label: &str,
    refusal: &Refusal,
) -> (StatusCode, String, String, Option<ProviderButton>) {
    match refusal {
        Refusal::BoundToOther { method } => {
            let (title, message, button) = bound_elsewhere(state, method);
            let message = format!("You signed in with {label}, but {message}");
            (StatusCode::FORBIDDEN, title, message, button)
        }
        // Facebook returns no email when the person declined the permission or has none.
        Refusal::NoVerifiedEmail if provider == "facebook" => (
            StatusCode::FORBIDDEN,
            "We could not sign you in".into(),
            "Facebook did not share an email address with us, so we cannot tell who you are. Sign in with Facebook again and allow access to your email address, or sign in another way.".into(),
            None,
        ),
        Refusal::NoVerifiedEmail => (
            StatusCode::FORBIDDEN,
            "We could not sign you in".into(),
            format!("{label} did not confirm an email address for your account, so we cannot tell who you are. Sign in another way."),
            None,
        ),
        Refusal::UnverifiedAccount => (
            StatusCode::FORBIDDEN,
            "We could not sign you in".into(),
            "An account with this email address exists but its email was never confirmed. Sign in with your email address, or contact support.".into(),
            None,
        ),
    }
}

/// The page text and button for an account bound to `method`: "Sign in with Google", or the
/// email form (the guide: "You will not be able to log in using other options after the
/// initial log in").
pub fn bound_elsewhere(state: &AppState, method: &str) -> (String, String, Option<ProviderButton>) {
    let name = flow::method_label(state, method);
    let button = state.federation.provider(method).map(|p| ProviderButton { name: p.name, label: p.label });
    let how = match &button {
        Some(b) => format!("this account signs in with {}. Use \"Sign in with {}\".", b.label, b.label),
        None if method == identity::LOCAL_METHOD => {
            "this account signs in with its email address. Use the email form on the sign-in page.".into()
        }
        None => format!("this account signs in with {name}."),
    };
    ("Use the way you signed in before".into(), how, button)
}
