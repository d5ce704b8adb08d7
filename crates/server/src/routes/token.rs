//! The token endpoint (RFC 6749 §3.2: authorization_code §4.1.3, refresh_token §6,
//! client_credentials §4.4; OIDC Core §3.1.3, §12). Responses are never cached (§5.1); errors
//! are §5.2 JSON, mapped in `http::error`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::{ClientId, ClientStore, OAuthError, PresentedCredentials, TokenGrantError, TokenParams};

use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/token";

/// A body that is not a form is already a protocol error (RFC 6749 §5.2 `invalid_request`).
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(16 * 1024).error_handler(|e, _| {
        Failure::token(OAuthError::invalid_request(format!("malformed token request: {e}"))).into()
    })
}

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenParams>,
) -> Result<HttpResponse, Failure> {
    exchange(&req, &state, form.into_inner()).await.map_err(Failure::in_json)
}

async fn exchange(req: &HttpRequest, state: &AppState, params: TokenParams) -> Result<HttpResponse, Failure> {
    let presented = credentials(req, &params)?;
    let used_basic = matches!(presented, PresentedCredentials::Basic { .. });
    let id = ClientId::from_stored(presented.client_id().to_owned());
    let client = state.db(move |s| s.find_client(&id)).await?;
    let client = oauth::client_auth::authenticate(&presented, client.as_ref())
        .map_err(|e| Failure::Token { error: e.to_oauth(), used_basic })?
        .clone();

    let now = AppState::now();
    let keys = state.keys.clone();
    let settings = state.token_settings.clone();
    let store = state.store.clone();
    let outcome = web::block(move || oauth::grant(&store, &keys, &settings, &client, &params, now))
        .await
        .map_err(Failure::internal)?;
    match outcome {
        Ok(response) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(response)),
        Err(TokenGrantError::OAuth(error)) => Err(Failure::token(error)),
        Err(other) => Err(Failure::internal(other)),
    }
}

/// Client authentication, RFC 6749 §2.3.1: HTTP Basic or the client_secret form parameter,
/// never both; a public client sends only its client_id. The rules live in `oauth::client_auth`.
fn credentials(req: &HttpRequest, params: &TokenParams) -> Result<PresentedCredentials, Failure> {
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    PresentedCredentials::from_parts(header, params.client_id.as_deref(), params.client_secret.as_deref())
        .map_err(|error| {
            let used_basic = header.is_some() && error.code == oauth::ErrorCode::InvalidClient;
            Failure::Token { error, used_basic }
        })?
        .ok_or_else(|| Failure::token(OAuthError::invalid_client("client authentication is required")))
}
