//! Client authentication at the token, revocation and introspection endpoints (RFC 6749
//! §2.3.1, RFC 7009 §2.1, RFC 7662 §2.1): HTTP Basic or the client_secret form parameter,
//! never both; a public client sends only its client_id. The rules live in
//! `oauth::client_auth`; a failure remembers whether the Authorization header was used, for the
//! 401 challenge of RFC 6749 §5.2.

use actix_web::HttpRequest;
use actix_web::http::header;
use oauth::{Client, ClientId, ClientStore, OAuthError, PresentedCredentials};

use crate::http::error::Failure;
use crate::state::AppState;

/// The client the request authenticated as, from its Authorization header and the body's
/// `client_id` and `client_secret`.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Result<Client, Failure> {
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    let presented = PresentedCredentials::from_parts(header, client_id, client_secret)
        .map_err(|error| {
            let used_basic = header.is_some() && error.code == oauth::ErrorCode::InvalidClient;
            Failure::Token { error, used_basic }
        })?
        .ok_or_else(|| Failure::token(OAuthError::invalid_client("client authentication is required")))?;
    let used_basic = presented.used_basic();
    let id = ClientId::from_stored(presented.client_id().to_owned());
    let client = state.db(move |s| s.find_client(&id)).await?;
    let client = oauth::client_auth::authenticate(&presented, client.as_ref())
        .map_err(|e| Failure::Token { error: e.to_oauth(), used_basic })?;
    Ok(client.clone())
}
