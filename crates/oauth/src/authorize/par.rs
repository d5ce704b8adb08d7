//! Pushed Authorization Requests (RFC 9126).
//!
//! ```text
//! POST /par (client authenticated) ──validate as /authorize would──▶ stored, 60 s, single use
//!        ◀── {"request_uri": "urn:ietf:params:oauth:request_uri:…", "expires_in": 60}
//! GET /authorize?client_id&request_uri ──take (one winner)──▶ the pushed parameters
//!        └─ unknown / used / expired / another client's ──▶ error page
//! ```
//!
//! When the End-User must first sign in or consent, the pushed request is not sent through the
//! browser in the clear: a new single-use handle of the same kind ("resume", lifetime
//! [`RESUME_TTL`]) is stored and carried instead, so the original `request_uri` stays single
//! use and a client that must use PAR stays within it.

use tokens::{OpaqueToken, TokenHash};

use super::{AuthorizationParams, present};
use crate::error::{ErrorCode, OAuthError};
use crate::store::{Client, PushedRequest};

/// RFC 9126 §2.2: the `request_uri` is a URN of this form.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Seconds a pushed request may wait for its authorization request (RFC 9126 §2.2: "short
/// lived").
pub const PUSHED_REQUEST_TTL: i64 = 60;
/// Seconds a request may wait on the sign-in or consent pages.
pub const RESUME_TTL: i64 = 30 * 60;

/// The RFC 9126 §2.2 response.
#[derive(serde::Serialize, Debug)]
pub struct PushResponse {
    pub request_uri: String,
    pub expires_in: i64,
}

/// Checks a pushed request from the authenticated `client` (RFC 9126 §2.1) and builds the row
/// to store. The authorization rules themselves are [`super::resolve_redirect`] and
/// [`super::validate`], which the caller runs first.
pub fn check_push(params: &AuthorizationParams, client: &Client) -> Result<(), OAuthError> {
    // §2.1: "The request_uri authorization request parameter is one exception, and it MUST NOT
    // be provided."
    if present(&params.request_uri).is_some() {
        return Err(OAuthError::invalid_request("request_uri must not be pushed"));
    }
    // §2.1: the client_id of the request must be the client that authenticated.
    if present(&params.client_id).is_some_and(|id| id != client.id.as_str()) {
        return Err(OAuthError::invalid_request("client_id is not the authenticated client"));
    }
    Ok(())
}

/// Stores `params` for `client` under a new request URI valid for `ttl` seconds.
pub fn store(params: &AuthorizationParams, client: &Client, ttl: i64, now: i64) -> (String, PushedRequest) {
    let secret = OpaqueToken::generate();
    let mut params = params.clone();
    params.client_id = Some(client.id.as_str().to_owned());
    let row = PushedRequest {
        uri_hash: secret.hash(),
        client_id: client.id.clone(),
        params: serde_json::to_string(&params).unwrap_or_default(),
        created_at: now,
        expires_at: now.saturating_add(ttl),
    };
    (format!("{REQUEST_URI_PREFIX}{}", secret.expose()), row)
}

/// The hash a request URI is stored under, if it is one of ours.
pub fn uri_hash(request_uri: &str) -> Option<TokenHash> {
    request_uri.strip_prefix(REQUEST_URI_PREFIX).filter(|s| !s.is_empty()).map(TokenHash::of)
}

/// The parameters of a taken pushed request, checked against the authorization request that
/// named it (`outer`: every pair of its query). RFC 9126 §4: the `client_id` must be the
/// pushing client's; parameters other than `client_id` and `request_uri` may only repeat the
/// pushed values (clients such as OIDC libraries repeat `response_type` and `scope`), never
/// add to or change them.
pub fn expand(outer: &[(String, String)], pushed: &PushedRequest) -> Result<AuthorizationParams, OAuthError> {
    let params: AuthorizationParams = serde_json::from_str(&pushed.params)
        .map_err(|_| OAuthError::new(ErrorCode::InvalidRequestUri, "the pushed request cannot be read"))?;
    let stored = serde_json::to_value(&params).unwrap_or_default();
    for (key, value) in outer {
        if value.is_empty() || key == "request_uri" {
            continue;
        }
        if key == "client_id" && value != pushed.client_id.as_str() {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequestUri,
                "request_uri belongs to another client",
            ));
        }
        if stored.get(key).and_then(|v| v.as_str()) != Some(value.as_str()) && is_authorization_parameter(key)
        {
            return Err(OAuthError::invalid_request(format!(
                "{key} differs from the pushed request: send it only in the pushed request (RFC 9126 §4)"
            )));
        }
    }
    Ok(params)
}

fn is_authorization_parameter(key: &str) -> bool {
    AuthorizationParams::NAMES.contains(&key)
}

/// RFC 9126 §5: a client registered with `require_pushed_authorization_requests` may only
/// authorize through `/par`.
pub fn check_required(client: &Client, pushed: bool) -> Result<(), OAuthError> {
    if client.require_pushed_authorization_requests && !pushed {
        return Err(OAuthError::invalid_request(
            "this client must push its authorization requests to the PAR endpoint (RFC 9126 §5)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{CHALLENGE, client};

    fn params() -> AuthorizationParams {
        AuthorizationParams {
            response_type: Some("code".into()),
            client_id: Some("client-1".into()),
            scope: Some("openid email".into()),
            code_challenge: Some(CHALLENGE.into()),
            ..Default::default()
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_stored_request_round_trips_under_a_urn() {
        let (uri, row) = store(&params(), &client(), PUSHED_REQUEST_TTL, 100);
        assert!(uri.starts_with(REQUEST_URI_PREFIX) && uri.len() > REQUEST_URI_PREFIX.len() + 40);
        assert_eq!(uri_hash(&uri), Some(row.uri_hash.clone()));
        assert_eq!((row.created_at, row.expires_at), (100, 160));
        let outer = pairs(&[("client_id", "client-1"), ("request_uri", &uri)]);
        assert_eq!(expand(&outer, &row).unwrap().scope.as_deref(), Some("openid email"));
        assert_eq!(uri_hash("https://rp.example/req"), None);
        assert_eq!(uri_hash(REQUEST_URI_PREFIX), None);
    }

    #[test]
    fn outer_parameters_may_repeat_but_not_change_the_pushed_ones() {
        let (uri, row) = store(&params(), &client(), 60, 0);
        let same = pairs(&[("client_id", "client-1"), ("request_uri", &uri), ("scope", "openid email")]);
        assert!(expand(&same, &row).is_ok());
        let changed = pairs(&[("client_id", "client-1"), ("request_uri", &uri), ("scope", "openid phone")]);
        assert_eq!(expand(&changed, &row).unwrap_err().code, ErrorCode::InvalidRequest);
        let added = pairs(&[("client_id", "client-1"), ("request_uri", &uri), ("prompt", "none")]);
        assert_eq!(expand(&added, &row).unwrap_err().code, ErrorCode::InvalidRequest);
        let unknown = pairs(&[("client_id", "client-1"), ("request_uri", &uri), ("utm_source", "x")]);
        assert!(expand(&unknown, &row).is_ok(), "unknown parameters are ignored (RFC 6749 §3.1)");
        let other = pairs(&[("client_id", "client-2"), ("request_uri", &uri)]);
        assert_eq!(expand(&other, &row).unwrap_err().code, ErrorCode::InvalidRequestUri);
    }

    #[test]
    fn pushing_a_request_uri_or_another_client_id_is_refused() {
        let mut p = params();
        p.request_uri = Some("urn:x".into());
        assert_eq!(check_push(&p, &client()).unwrap_err().code, ErrorCode::InvalidRequest);
        let mut p = params();
        p.client_id = Some("client-2".into());
        assert_eq!(check_push(&p, &client()).unwrap_err().code, ErrorCode::InvalidRequest);
        assert!(check_push(&params(), &client()).is_ok());
    }

    #[test]
    fn a_client_requiring_par_is_refused_without_it() {
        let c = Client { require_pushed_authorization_requests: true, ..client() };
        assert!(check_required(&c, true).is_ok());
        assert_eq!(check_required(&c, false).unwrap_err().code, ErrorCode::InvalidRequest);
        assert!(check_required(&client(), false).is_ok());
    }
}
