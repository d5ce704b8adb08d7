//! The token endpoint (RFC 6749 §3.2, §5.1): the `authorization_code` grant (§4.1.3; OpenID
//! Connect Core §3.1.3) here, the `refresh_token` grant in [`refresh`], `client_credentials`
//! in [`client_credentials`], and bearer access token validation (RFC 6750, RFC 9068 §4) in
//! [`bearer`].
//!
//! A code's life:
//!
//! ```text
//! issued ──redeem (first)──▶ used ──▶ checks pass ──▶ tokens (grant gid)
//!    │                        │
//!    │                        └─ expired / other client / other redirect_uri / bad verifier
//!    │                           ──▶ invalid_grant (the code is spent)
//!    └─ redeem again ──▶ invalid_grant, and the grant is revoked (RFC 6749 §4.1.2)
//! ```

mod bearer;
mod client_credentials;
mod mint;
mod refresh;

use serde::{Deserialize, Serialize};
use tokens::{Algorithm, KeySet, TokenError, TokenHash};

use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use crate::store::{
    AuthorizationCode, Client, CodeStore, GrantStore, Redeem, RefreshTokenStore, StoreError, SubjectStore,
};

pub(crate) use bearer::still_stands;
pub use bearer::{BearerError, validate_bearer};
pub use client_credentials::issue as client_credentials;
pub(crate) use mint::{Issue, id_token_claims, mint};

/// The parameters of a token request (RFC 6749 §4.1.3, §6), from the form body.
#[derive(Deserialize, Default, Debug)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// RFC 7523 §2.2 client authentication.
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    /// RFC 8707 §2: the resource the access token is for (`client_credentials` only).
    pub resource: Option<String>,
}

impl TokenParams {
    /// The client authentication parameters of the body.
    pub fn credentials(&self) -> crate::BodyCredentials<'_> {
        crate::BodyCredentials {
            client_id: self.client_id.as_deref(),
            client_secret: self.client_secret.as_deref(),
            client_assertion_type: self.client_assertion_type.as_deref(),
            client_assertion: self.client_assertion.as_deref(),
        }
    }
}

/// Deployment settings the grant needs.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub issuer: String,
    /// Seconds.
    pub access_token_ttl: i64,
    /// Seconds.
    pub id_token_ttl: i64,
    pub access_token_alg: Algorithm,
    /// Seconds a refresh token stays valid unused (each rotation restarts it).
    pub refresh_token_idle_ttl: i64,
    /// Seconds a refresh token family lives from the code exchange, however often it rotates.
    pub refresh_token_absolute_ttl: i64,
}

/// The successful response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Serialize, Debug)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always "Bearer" (RFC 6750).
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 6749 §5.1, §6: present when the client may refresh (OIDC Core §11 `offline_access`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Why a token request failed: a protocol error for the client (RFC 6749 §5.2), or an
/// infrastructure failure (logged, answered with a 500, never detailed to the client).
#[derive(Debug, thiserror::Error)]
pub enum TokenGrantError {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error("store failure")]
    Store(#[from] StoreError),
    #[error("token signing failure")]
    Token(#[from] TokenError),
}

/// Everything the token endpoint's grants need from the store.
pub trait TokenStore: CodeStore + GrantStore + RefreshTokenStore + SubjectStore {}
impl<T: CodeStore + GrantStore + RefreshTokenStore + SubjectStore> TokenStore for T {}

/// The grant types this server supports (RFC 6749 §4.1.3, §4.4, §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    /// The request's `grant_type`, if this server supports it and `client` is registered for it
    /// (RFC 6749 §5.2 `unsupported_grant_type`, `unauthorized_client`).
    pub fn of(client: &Client, params: &TokenParams) -> Result<GrantType, OAuthError> {
        let name = present(&params.grant_type)
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        let grant = match name {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "use authorization_code, refresh_token or client_credentials",
                ));
            }
        };
        if !client.grant_types.iter().any(|g| g == name) {
            return Err(OAuthError::unauthorized_client(format!("this client may not use the {name} grant")));
        }
        Ok(grant)
    }
}

/// A token request from `client`, the client that authenticated (see `client_auth`), by its
/// `grant_type`, from `ip`. Tokens issued to an account are filed in the audit trail with the
/// grant's own write; a machine client's own tokens write nothing.
pub fn grant(
    store: &impl TokenStore,
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    params: &TokenParams,
    now: i64,
    ip: Option<&str>,
) -> Result<TokenResponse, TokenGrantError> {
    match GrantType::of(client, params)? {
        GrantType::RefreshToken => refresh::refresh(store, keys, settings, client, params, now, ip),
        GrantType::ClientCredentials => client_credentials::issue(keys, settings, client, params, now),
        GrantType::AuthorizationCode => exchange_code(store, keys, settings, client, params, now, ip),
    }
}

/// Redeems an authorization code for an access token, an ID token when `openid` was granted,
/// and a refresh token when the client may refresh and `offline_access` was granted.
fn exchange_code(
    store: &impl TokenStore,
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    params: &TokenParams,
    now: i64,
    ip: Option<&str>,
) -> Result<TokenResponse, TokenGrantError> {
    // RFC 6749 §4.1.3: code and redirect_uri are REQUIRED (redirect_uri because OIDC Core
    // §3.1.2.1 always requires it in the authorization request).
    let code = present(&params.code).ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = present(&params.redirect_uri)
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    // RFC 7636 §4.6: every code was issued with a challenge, so a missing verifier fails the
    // grant. Checked before redemption: a malformed request does not spend the code.
    let verifier = present(&params.code_verifier)
        .ok_or_else(|| OAuthError::invalid_grant("code_verifier is required (PKCE)"))?;

    let code = match store.redeem_code(&TokenHash::of(code), now)? {
        Redeem::Unknown => return Err(OAuthError::invalid_grant("unknown code").into()),
        Redeem::AlreadyUsed { grant_id } => {
            // RFC 6749 §4.1.2: "If an authorization code is used more than once, the
            // authorization server MUST deny the request and SHOULD revoke (when possible) all
            // tokens previously issued based on that authorization code."
            store.revoke_grant(&grant_id, now)?;
            return Err(OAuthError::invalid_grant("code already used").into());
        }
        Redeem::Fresh(code) => code,
    };
    check_code(&code, client, redirect_uri, verifier, now)?;
    let user_claims = id_token_claims(store, client, &code.subject, code.claims.as_deref())?;
    let issue = Issue {
        user_claims: &user_claims,
        grant_id: &code.grant_id,
        subject: &code.subject,
        scope: &code.scope,
        auth_time: code.auth_time,
        amr: &code.amr,
        session_id: &code.session_id,
        nonce: code.nonce.as_deref(),
        idp: code.idp.as_deref(),
    };
    let mut response = mint(keys, settings, client, &issue, now)?;
    let issued = refresh::issuance(client, &code.subject, "authorization_code", ip, now);
    // OIDC Core §11: a refresh token only for offline_access, and (RFC 6749 §6) only to a client
    // registered for the refresh_token grant.
    if client.grant_types.iter().any(|g| g == "refresh_token")
        && code.scope.split(' ').any(|s| s == "offline_access")
    {
        let (secret, row) = refresh::new_token(settings, client, &issue, &code.scope, now, now);
        store.insert_refresh_token(&row, &issued)?;
        response.refresh_token = Some(secret.expose().to_owned());
    } else {
        store.record_issuance(&issued)?;
    }
    Ok(response)
}

/// The binding checks of RFC 6749 §4.1.3 and RFC 7636 §4.6 on a freshly redeemed code.
fn check_code(
    code: &AuthorizationCode,
    client: &Client,
    redirect_uri: &str,
    verifier: &str,
    now: i64,
) -> Result<(), OAuthError> {
    // RFC 6749 §4.1.2: the code "MUST expire shortly after it is issued".
    if now >= code.expires_at {
        return Err(OAuthError::invalid_grant("code expired"));
    }
    // §4.1.3: "ensure that the authorization code was issued to the authenticated confidential
    // client, or if the client is public, ensure that the code was issued to "client_id""
    if code.client_id != client.id {
        return Err(OAuthError::invalid_grant("code was issued to another client"));
    }
    // §4.1.3: "ensure that the "redirect_uri" parameter is present … and … their values are
    // identical".
    if code.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    // RFC 7636 §4.6.
    if !pkce::verify(verifier, &code.code_challenge) {
        return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
    }
    Ok(())
}

/// RFC 6749 §3.1: parameters without a value are treated as omitted.
pub(crate) fn present(p: &Option<String>) -> Option<&str> {
    p.as_deref().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod refresh_tests;
#[cfg(test)]
mod tests;
