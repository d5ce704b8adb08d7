//! The token endpoint (RFC 6749 §3.2: authorization_code §4.1.3, refresh_token §6,
//! client_credentials §4.4; OIDC Core §3.1.3, §12). Responses are never cached (§5.1); errors
//! are §5.2 JSON, mapped in `http::error`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::{GrantType, OAuthError, TokenGrantError, TokenParams};

use crate::http::client_auth;
use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/token";

/// A body that is not a form is already a protocol error (RFC 6749 §5.2 `invalid_request`); the
/// revocation and introspection endpoints answer the same way (RFC 7009 §2.2.1, RFC 7662 §2.3).
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(16 * 1024).error_handler(|e, _| {
        Failure::token(OAuthError::invalid_request(format!("malformed request: {e}"))).into()
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
    let client = client_auth::authenticate(req, state, params.credentials()).await?;
    let now = AppState::now();
    let keys = state.keys.current();
    let grant_type = params.grant_type.clone().unwrap_or_default();
    let outcome = match GrantType::of(&client, &params) {
        Err(error) => Err(error.into()),
        // Only a signature: done here rather than paying a thread hand-off to the blocking pool
        // and back (docs/performance.md). A machine client's own tokens write nothing
        // (DESIGN.md); they are counted in the metrics and the access line names the client.
        Ok(GrantType::ClientCredentials) => {
            oauth::client_credentials(&keys, &state.token_settings, &client, &params, now)
        }
        Ok(_) => {
            let settings = state.token_settings.clone();
            let store = state.store.clone();
            let ip = crate::flows::session::client_ip(req);
            // Tokens issued to an account are filed in the audit trail (`token.issued`) by the
            // grant, with its own write.
            web::block(move || oauth::grant(&store, &keys, &settings, &client, &params, now, ip.as_deref()))
                .await
                .map_err(Failure::internal)?
        }
    };
    if outcome.is_ok() {
        // An unknown grant type never succeeds; the label set stays bounded (metrics.rs).
        crate::http::metrics::token_issued(&grant_type);
    }
    match outcome {
        Ok(response) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(response)),
        Err(TokenGrantError::OAuth(error)) => Err(Failure::token(error)),
        Err(other) => Err(Failure::internal(other)),
    }
}
