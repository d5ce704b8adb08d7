//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client asks for an access
//! token for itself. RFC 9068 §2.2: `sub` is the client id; no ID token and no refresh token
//! (§4.4.3: "A refresh token SHOULD NOT be included").
//!
//! Audience: the RFC 8707 `resource` parameter names one of the client's registered audiences;
//! without it the token is for all of them, or for this issuer when the client registered none.

use tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims, Audience, KeySet};

use super::{TokenGrantError, TokenParams, TokenResponse, TokenSettings, present};
use crate::error::{ErrorCode, OAuthError};
use crate::scope::Scopes;
use crate::store::{Client, GrantId};

/// Scopes that only make sense for an end-user and are never granted to a client by itself.
const END_USER_SCOPES: &[&str] = &["openid", "offline_access"];

/// The grant alone: it only signs, reading and writing nothing (DESIGN.md: issuing a JWT access
/// token writes nothing), so a caller may run it without a store (`oauth::client_credentials`).
pub fn issue(
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    params: &TokenParams,
    now: i64,
) -> Result<TokenResponse, TokenGrantError> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
    // clients." (Registration refuses it for public clients; a stored row is checked again.)
    if client.is_public() {
        return Err(OAuthError::unauthorized_client("a public client may not use client_credentials").into());
    }
    let scope = scope(params.scope.as_deref(), client)?;
    let aud = audience(present(&params.resource), client, &settings.issuer)?;
    let claims = AccessTokenClaims {
        iss: settings.issuer.clone(),
        sub: client.id.as_str().to_owned(),
        aud,
        exp: now.saturating_add(settings.access_token_ttl),
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: client.id.as_str().to_owned(),
        scope: scope.clone(),
        auth_time: None,
        // A grant of its own, so revoking this token revokes nothing else.
        gid: GrantId::generate().as_str().to_owned(),
    };
    let access_token = keys.signer(settings.access_token_alg).sign_jwt(ACCESS_TOKEN_TYP, &claims)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: settings.access_token_ttl,
        id_token: None,
        refresh_token: None,
        scope,
    })
}

/// RFC 6749 §3.3 and §4.4.2: the requested scopes, each registered for the client; none
/// requested means every registered scope the grant allows.
fn scope(requested: Option<&str>, client: &Client) -> Result<String, OAuthError> {
    let allowed: Vec<String> =
        client.scopes.iter().filter(|s| !END_USER_SCOPES.contains(&s.as_str())).cloned().collect();
    let requested = Scopes::parse(requested.unwrap_or(""))?;
    if let Some(s) = requested.iter().find(|s| END_USER_SCOPES.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {s} needs an end-user; not with client_credentials"
        )));
    }
    if requested.is_empty() {
        return Ok(Scopes::from_tokens(allowed).to_string());
    }
    Ok(requested.allowed_by(&allowed)?.to_string())
}

/// RFC 8707 §2: a `resource` the client may not ask for is `invalid_target`.
fn audience(resource: Option<&str>, client: &Client, issuer: &str) -> Result<Audience, OAuthError> {
    match resource {
        Some(r) if client.audiences.iter().any(|a| a == r) => Ok(r.into()),
        Some(_) => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "resource is not an audience registered for this client",
        )),
        None if client.audiences.is_empty() => Ok(issuer.into()),
        None => Ok(Audience::new(client.audiences.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::client;

    fn cc_client() -> Client {
        Client {
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            audiences: vec!["https://permits.example/api".into(), "https://311.example/api".into()],
            ..client()
        }
    }

    #[test]
    fn scope_defaults_to_the_registered_scopes_without_openid() {
        assert_eq!(scope(None, &cc_client()).unwrap(), "profile email");
        assert_eq!(scope(Some("email"), &cc_client()).unwrap(), "email");
    }

    #[test]
    fn openid_offline_access_and_unregistered_scopes_are_invalid_scope() {
        for bad in ["openid", "email offline_access", "phone", "email bad\"char"] {
            assert_eq!(scope(Some(bad), &cc_client()).unwrap_err().code, ErrorCode::InvalidScope, "{bad}");
        }
    }

    #[test]
    fn audience_is_a_registered_resource_all_of_them_or_the_issuer() {
        let c = cc_client();
        let one = audience(Some("https://311.example/api"), &c, "https://id.example").unwrap();
        assert_eq!(one, Audience::from("https://311.example/api"));
        let all = audience(None, &c, "https://id.example").unwrap();
        assert!(all.contains("https://permits.example/api") && all.contains("https://311.example/api"));
        let e = audience(Some("https://evil.example/"), &c, "https://id.example").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidTarget);
        let plain = Client { audiences: vec![], ..c };
        assert_eq!(
            audience(None, &plain, "https://id.example").unwrap(),
            Audience::from("https://id.example")
        );
    }
}
