//! Client authentication at the token, revocation, introspection and PAR endpoints (RFC 6749
//! §2.3, RFC 7009 §2.1, RFC 7662 §2.1, RFC 9126 §2): HTTP Basic or the client_secret form
//! parameter; a JWT assertion (`private_key_jwt`, `client_secret_jwt`, RFC 7523 §2.2); never
//! two at once; a public client sends only its client_id. The rules live in
//! `oauth::client_auth` and `oauth::client_assertion`; a failure remembers whether the
//! Authorization header was used, for the 401 challenge of RFC 6749 §5.2.

use actix_web::HttpRequest;
use actix_web::http::header;
use oauth::client_assertion::{self, AssertionError, AssertionKey};
use oauth::{AssertionReplayStore, BodyCredentials, Client, ClientId, OAuthError, PresentedCredentials};
use tokens::{AssertionKeyError, ClientJwks};

use crate::http::error::Failure;
use crate::state::AppState;

/// The client the request authenticated as, from its Authorization header and the body's
/// client authentication parameters.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    body: BodyCredentials<'_>,
) -> Result<Client, Failure> {
    let client = identify(req, state, body).await?;
    // The request's span (http/access.rs) names the client from here on, access line included.
    tracing::Span::current().record("client_id", client.id.as_str());
    Ok(client)
}

async fn identify(req: &HttpRequest, state: &AppState, body: BodyCredentials<'_>) -> Result<Client, Failure> {
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    let presented = PresentedCredentials::from_request(header, body)
        .map_err(|error| {
            let used_basic = header.is_some() && error.code == oauth::ErrorCode::InvalidClient;
            Failure::Token { error, used_basic }
        })?
        .ok_or_else(|| Failure::token(OAuthError::invalid_client("client authentication is required")))?;
    let used_basic = presented.used_basic();
    let id = ClientId::from_stored(presented.client_id().to_owned());
    let client = state.clients.find(state, &id).await?;
    if let PresentedCredentials::Assertion { assertion, .. } = &presented {
        let client = client.ok_or_else(refused)?;
        return by_assertion(req, state, Client::clone(&client), assertion).await;
    }
    let client = oauth::client_auth::authenticate(&presented, client.as_deref())
        .map_err(|e| Failure::Token { error: e.to_oauth(), used_basic })?;
    Ok(client.clone())
}

/// `invalid_client` with nothing said about which check failed (RFC 7521 §4.2.1 allows more,
/// but a prober learns nothing this way; the log has the reason).
fn refused() -> Failure {
    Failure::token(OAuthError::invalid_client("client authentication failed"))
}

fn reject(client: &Client, error: impl std::fmt::Display) -> Failure {
    tracing::info!(client_id = %client.id, reason = %error, "client assertion refused");
    refused()
}

async fn by_assertion(
    req: &HttpRequest,
    state: &AppState,
    client: Client,
    assertion: &str,
) -> Result<Client, Failure> {
    if !client_assertion::is_jwt_method(&client) {
        return Err(reject(&client, AssertionError::WrongMethod));
    }
    // RFC 7523 §3 item 3, OIDC Core §9, RFC 9126 §2: the issuer, the token endpoint URL and
    // the URL of the endpoint the assertion was sent to all identify this server.
    let issuer = state.settings.issuer.clone();
    let token_endpoint = state.endpoint(crate::routes::token::PATH);
    let this_endpoint = state.endpoint(req.path());
    let audiences = [issuer.as_str(), token_endpoint.as_str(), this_endpoint.as_str()];
    let now = AppState::now();
    let verified = match (&client.keys.jwks, &client.keys.jwks_uri) {
        _ if client.token_endpoint_auth_method == "client_secret_jwt" => {
            let secret = match oauth::open_client_secret(&client, &state.master) {
                Some(Ok(secret)) => secret,
                Some(Err(e)) => return Err(Failure::internal(e)),
                None => {
                    return Err(reject(&client, "no sealed secret (registered before client_secret_jwt?)"));
                }
            };
            client_assertion::verify(assertion, &client, AssertionKey::Secret(&secret), &audiences, now)
        }
        (Some(doc), _) => {
            let jwks = ClientJwks::parse(doc).map_err(|why| reject(&client, why))?;
            client_assertion::verify(assertion, &client, AssertionKey::Jwks(&jwks), &audiences, now)
        }
        (None, Some(uri)) => {
            let jwks = state.client_jwks.get(uri).await.map_err(|e| reject(&client, e))?;
            let first =
                client_assertion::verify(assertion, &client, AssertionKey::Jwks(&jwks), &audiences, now);
            match first {
                // The client may have rotated its keys since the set was cached: fetch it once more.
                Err(AssertionError::Key(AssertionKeyError::UnknownKey)) => {
                    let kid = tokens::assertion::assertion_header(assertion).ok().and_then(|(_, kid)| kid);
                    match state.client_jwks.refetch_for_kid(uri, kid.as_deref().unwrap_or("")).await {
                        Some(Ok(jwks)) => client_assertion::verify(
                            assertion,
                            &client,
                            AssertionKey::Jwks(&jwks),
                            &audiences,
                            now,
                        ),
                        Some(Err(e)) => return Err(reject(&client, e)),
                        None => first,
                    }
                }
                other => other,
            }
        }
        (None, None) => Err(AssertionError::WrongMethod),
    };
    let verified = verified.map_err(|e| reject(&client, e))?;
    // RFC 7523 §3 item 7: the jti is single use. Recorded only now, so an assertion that failed
    // a check above cannot burn a jti.
    let id = client.id.clone();
    let fresh =
        state.db(move |s| s.record_assertion_jti(&id, &verified.jti, verified.expires_at, now)).await?;
    if !fresh {
        return Err(reject(&client, AssertionError::Replayed));
    }
    Ok(client)
}
