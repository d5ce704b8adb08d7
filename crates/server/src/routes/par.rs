//! The pushed authorization request endpoint (RFC 9126 §2): the client authenticates as at the
//! token endpoint, the request is validated exactly as `/authorize` would, stored for 60 s and
//! single use, and answered with its `request_uri`. Errors are RFC 6749 §5.2 JSON (RFC 9126
//! §2.3), mapped in `http::error`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::authorize::{self, par};
use oauth::{AuthorizationParams, OAuthError, PushedRequestStore};
use serde::Deserialize;

use crate::http::client_auth;
use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/par";

/// The client authentication parameters of the body (the rest is the authorization request).
#[derive(Deserialize)]
struct Credentials {
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

impl Credentials {
    fn body(&self) -> oauth::BodyCredentials<'_> {
        oauth::BodyCredentials {
            client_id: self.client_id.as_deref(),
            client_secret: self.client_secret.as_deref(),
            client_assertion_type: self.client_assertion_type.as_deref(),
            client_assertion: self.client_assertion.as_deref(),
        }
    }
}

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Failure> {
    push(&req, &state, &body).await.map_err(Failure::in_json)
}

async fn push(req: &HttpRequest, state: &AppState, body: &[u8]) -> Result<HttpResponse, Failure> {
    let malformed =
        || Failure::token(OAuthError::invalid_request("the body must be a form with each parameter once"));
    let raw = std::str::from_utf8(body).map_err(|_| malformed())?;
    let creds: Credentials = serde_urlencoded::from_str(raw).map_err(|_| malformed())?;
    let mut params: AuthorizationParams = serde_urlencoded::from_str(raw).map_err(|_| malformed())?;
    let client = client_auth::authenticate(req, state, creds.body()).await?;
    par::check_push(&params, &client).map_err(Failure::token)?;
    // A client authenticating with HTTP Basic may leave client_id out of the body.
    params.client_id.get_or_insert_with(|| client.id.as_str().to_owned());
    // RFC 9126 §2.1: "the authorization server MUST validate the request in the same way as at
    // the authorization endpoint". The redirect URI errors are pages there; here, JSON.
    let redirect_uri = authorize::resolve_redirect(&params, Some(&client))
        .map_err(|e| Failure::token(OAuthError::invalid_request(e.to_string())))?;
    authorize::validate(&params, &client, redirect_uri).map_err(Failure::token)?;
    let now = AppState::now();
    let (request_uri, row) = par::store(&params, &client, par::PUSHED_REQUEST_TTL, now);
    state.db(move |s| s.insert_pushed_request(&row)).await?;
    // RFC 9126 §2.2: 201 Created.
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(par::PushResponse { request_uri, expires_in: par::PUSHED_REQUEST_TTL }))
}
