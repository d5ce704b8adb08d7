//! OpenID Connect Discovery 1.0 §3 and the JWKS. Both are rendered once, when the keys are
//! loaded, never per request (DESIGN.md, "Cost model").

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::settings::Settings;
use crate::state::AppState;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The provider metadata: every field Discovery §3 marks REQUIRED, and what a relying party
/// needs to use the code flow with PKCE.
pub fn document(settings: &Settings) -> String {
    let base = settings.issuer_base();
    // OIDC Core §9 and RFC 7523: the JWT assertion methods on every endpoint that
    // authenticates clients, with the algorithms each accepts (`tokens::assertion`).
    let signing_algs: Vec<&str> =
        tokens::assertion::PUBLIC_KEY_ALGS.iter().chain(tokens::assertion::SECRET_ALGS).copied().collect();
    json!({
        "issuer": settings.issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "revocation_endpoint": format!("{base}/revoke"),
        "introspection_endpoint": format!("{base}/introspect"),
        // RFC 9126 §5: PAR is offered to every client; clients registered with --require-par
        // must use it, which is per client, so the global flag is false.
        "pushed_authorization_request_endpoint": format!("{base}/par"),
        "require_pushed_authorization_requests": false,
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "scopes_supported": oauth::SUPPORTED_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        // RFC 8414 §2: a public client may revoke its own tokens; introspection needs
        // credentials.
        "revocation_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algs,
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algs,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": oauth::SUPPORTED_CLAIMS,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        // About request objects by reference (OIDC Core §6.2); PAR's request_uri is separate
        // (RFC 9126 §4) and advertised by its endpoint above.
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        // RP-Initiated Logout 1.0 §2.1 and Back-Channel Logout 1.0 §2.1: every logout token
        // carries `sid`.
        "end_session_endpoint": format!("{base}/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
    .to_string()
}

pub async fn configuration(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(state.discovery.to_string())
}

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .body(state.keys.current().jwks_json().to_owned())
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../static/gatehouse.css"))
}
