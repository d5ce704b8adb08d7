//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2), GET and POST, and the
//! confirmation the hosted pages ask for when the request does not prove it speaks for this
//! browser's session.
//!
//! ```text
//! /logout ──bad hint, client or post_logout_redirect_uri──▶ error page (no redirect)
//!    │ ok
//!    ├─ no session, or the hint's sid is this session ──▶ end it ──▶ redirect / "You are signed out"
//!    └─ otherwise ──▶ "Sign out?" ──POST /logout/confirm (CSRF)──▶ end it ──▶ same
//! ```

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::{ClientStore, LogoutParams, LogoutRequest};
use serde::Deserialize;

use crate::flows;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::render;
use crate::routes::signout::clear_session_cookie;
use crate::state::AppState;

pub const PATH: &str = "/logout";
pub const CONFIRM_PATH: &str = "/logout/confirm";

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let raw = req.query_string().to_owned();
    logout(&req, &state, &raw).await
}

/// RP-Initiated §2: "The OP MUST support the use of the HTTP GET and POST methods".
pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Failure> {
    let raw = String::from_utf8(body.to_vec()).map_err(|_| malformed())?;
    logout(&req, &state, &raw).await
}

async fn logout(req: &HttpRequest, state: &AppState, raw: &str) -> Result<HttpResponse, Failure> {
    // A repeated parameter fails here: we cannot tell which one is meant.
    let params: LogoutParams = serde_urlencoded::from_str(raw).map_err(|_| malformed())?;
    let request = flows::logout::prepare(state, &params).await?;
    let now = AppState::now();
    if let Some(session) = flows::session::current(req, state, now).await?
        && !request.names_session(&session.id, session.account_id.as_str())
    {
        return confirm_page(req, state, &params).await;
    }
    signed_out(req, state, &request, now).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form.csrf, "/profile".into())?;
    let form = form.into_inner();
    let params = LogoutParams {
        id_token_hint: form.id_token_hint,
        client_id: form.client_id,
        post_logout_redirect_uri: form.post_logout_redirect_uri,
        state: form.state,
        ui_locales: None,
    };
    // Checked again: the form came back from the browser.
    let request = flows::logout::prepare(&state, &params).await?;
    signed_out(&req, &state, &request, AppState::now()).await
}

async fn confirm_page(
    req: &HttpRequest,
    state: &AppState,
    params: &LogoutParams,
) -> Result<HttpResponse, Failure> {
    let client = params.client_id.clone().filter(|c| !c.is_empty());
    let portal = match client {
        Some(id) => {
            state.db(move |s| s.find_client(&oauth::ClientId::from_stored(id))).await?.map(|c| c.name)
        }
        None => None,
    };
    let (token, builder) = csrf::forms::page(req, state);
    let carried = [
        ("id_token_hint", &params.id_token_hint),
        ("client_id", &params.client_id),
        ("post_logout_redirect_uri", &params.post_logout_redirect_uri),
        ("state", &params.state),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    .collect();
    let page = pages::LogoutConfirm { csrf: &token, portal: portal.as_deref().unwrap_or(""), carried };
    render(builder, &page)
}

/// Ends the session (if any), clears the cookie, and sends the browser back to the portal with
/// `state` (RP-Initiated §3) or shows that it is signed out.
async fn signed_out(
    req: &HttpRequest,
    state: &AppState,
    request: &LogoutRequest,
    now: i64,
) -> Result<HttpResponse, Failure> {
    flows::logout::end_session(req, state, now).await?;
    if let Some(to) = &request.redirect {
        return Ok(HttpResponse::SeeOther()
            .cookie(clear_session_cookie(state))
            .insert_header((header::LOCATION, to.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    }
    let mut builder = HttpResponse::Ok();
    builder.cookie(clear_session_cookie(state));
    render(
        builder,
        &pages::Message {
            title: "You are signed out",
            lines: &["You have been signed out of this browser."],
            link: Some(("/signin", "Sign in")),
        },
    )
}

fn malformed() -> Failure {
    Failure::page(
        StatusCode::BAD_REQUEST,
        "This sign-out link is not valid",
        "The portal sent an incomplete or malformed sign-out request. Go back to the portal and try again.",
    )
}
