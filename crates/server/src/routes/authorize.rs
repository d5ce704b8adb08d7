//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2), GET and POST, and the
//! answer to its consent page. The steps are `flows::authorize`:
//!
//! ```text
//! client_id + redirect_uri (or request_uri) ──bad──▶ error page (never a redirect, §4.1.2.1)
//!        │ ok
//! other parameters ──bad──▶ error response (redirect, or form_post), with state and iss,
//!        │ ok                once the citizen has signed in or at once for prompt=none
//!        │                   (RFC 9700 §4.11.2)
//! session ──none / too old / prompt=login──▶ hosted sign-in, which returns here
//!        │ fresh enough                        (prompt=none: login_required)
//! consent ──needed──▶ consent page ──Allow──▶ code   ──Deny──▶ access_denied
//!        │ not needed                           (prompt=none: consent_required)
//! code ──▶ redirect_uri?code&state&iss, or an auto-submitting form (form_post)
//! ```

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::AuthorizationResponse;
use oauth::authorize::consent::describe_scope;
use serde::Deserialize;

use crate::flows::authorize::{self as flow, Step};
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::{back_to_sign_in, render, safe_continue};
use crate::state::AppState;

pub const PATH: &str = "/authorize";
pub const CONSENT_PATH: &str = "/authorize/consent";

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let raw = req.query_string().to_owned();
    authorize(&req, &state, &raw).await
}

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Failure> {
    let raw = String::from_utf8(body.to_vec()).map_err(|_| flow::malformed())?;
    authorize(&req, &state, &raw).await
}

async fn authorize(req: &HttpRequest, state: &AppState, raw: &str) -> Result<HttpResponse, Failure> {
    let now = AppState::now();
    let step = match flow::load(state, raw, now).await? {
        Ok(loaded) => flow::step(req, state, loaded, now).await?,
        Err(rejected) => flow::reject(req, state, rejected, now).await?,
    };
    respond(req, state, step)
}

/// The consent page's form: "Allow" or "Deny".
#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(rename = "continue", default)]
    continue_to: String,
    #[serde(default)]
    decision: String,
}

pub async fn consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, Failure> {
    let continue_to = safe_continue(Some(&form.continue_to));
    csrf::forms::check(&req, &state, &form.csrf, back_to_sign_in(continue_to))?;
    if !continue_to.starts_with("/authorize?") {
        return Err(flow::malformed());
    }
    let allow = match form.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(flow::malformed()),
    };
    let step = flow::answer(&req, &state, continue_to, allow, AppState::now()).await?;
    respond(&req, &state, step)
}

fn respond(req: &HttpRequest, state: &AppState, step: Step) -> Result<HttpResponse, Failure> {
    match step {
        Step::Respond(AuthorizationResponse::Redirect(to)) | Step::SignIn(to) => Ok(found(&to)),
        Step::Respond(AuthorizationResponse::FormPost { action, fields }) => {
            pages::form_post(&action, &fields)
        }
        Step::Consent { continue_to, client_name, third_party, scopes } => {
            let (token, builder) = csrf::forms::page(req, state);
            let scopes: Vec<&str> = scopes.iter().map(|s| describe_scope(s)).collect();
            let page = pages::Consent {
                csrf: &token,
                continue_to: &continue_to,
                client_name: &client_name,
                third_party,
                scopes: &scopes,
                action: CONSENT_PATH,
            };
            render(builder, &page)
        }
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
