//! The token endpoint's `authorization_code` grant (RFC 6749 §4.1.3, §5.1; OpenID Connect Core
//! §3.1.3), and bearer access token validation (RFC 6750, RFC 9068 §4).
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

use serde::{Deserialize, Serialize};
use tokens::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, Algorithm, ID_TOKEN_TYP, IdTokenClaims, KeySet, TokenError,
    TokenHash, at_hash,
};

use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use crate::store::{AuthorizationCode, Client, CodeStore, GrantId, GrantStore, Redeem, StoreError};

/// The parameters of a token request (RFC 6749 §4.1.3, §6), from the form body.
#[derive(Deserialize, Default, Debug)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
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

/// Redeems an authorization code for an access token and, when `openid` was granted, an ID
/// token. `client` is the client that authenticated (see `client_auth`).
pub fn exchange_code(
    store: &(impl CodeStore + GrantStore),
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    params: &TokenParams,
    now: i64,
) -> Result<TokenResponse, TokenGrantError> {
    match present(&params.grant_type) {
        None => return Err(OAuthError::invalid_request("grant_type is required").into()),
        Some("authorization_code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "only grant_type=authorization_code is supported",
            )
            .into());
        }
    }
    // RFC 6749 §5.2 unauthorized_client: not registered for this grant type.
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(
            OAuthError::unauthorized_client("this client may not use the authorization_code grant").into()
        );
    }
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
    Ok(mint(keys, settings, client, &code, now)?)
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

fn mint(
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    code: &AuthorizationCode,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    // RFC 9068 §2.2: the JWT access token's claims; `aud` is this issuer (userinfo is its only
    // resource today), `gid` ties it to its grant for revocation.
    let at_claims = AccessTokenClaims {
        iss: settings.issuer.clone(),
        sub: code.subject.clone(),
        aud: settings.issuer.clone(),
        exp: now.saturating_add(settings.access_token_ttl),
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: client.id.as_str().to_owned(),
        scope: code.scope.clone(),
        auth_time: code.auth_time,
        gid: code.grant_id.as_str().to_owned(),
    };
    // RFC 9068 §2.1: typ "at+jwt".
    let access_token = keys.signer(settings.access_token_alg).sign_jwt(ACCESS_TOKEN_TYP, &at_claims)?;

    let id_token = if code.scope.split(' ').any(|s| s == "openid") {
        // Validated at registration; a stored value this version does not know falls back to
        // the default, RS256 (OIDC Dynamic Registration §2).
        let alg = Algorithm::parse(&client.id_token_signed_response_alg).unwrap_or(Algorithm::Rs256);
        // OIDC Core §2 and §3.1.3.6 (at_hash).
        let claims = IdTokenClaims {
            iss: settings.issuer.clone(),
            sub: code.subject.clone(),
            aud: client.id.as_str().to_owned(),
            exp: now.saturating_add(settings.id_token_ttl),
            iat: now,
            auth_time: code.auth_time,
            nonce: code.nonce.clone(),
            at_hash: Some(at_hash(&access_token, alg)),
            amr: code.amr.clone(),
            sid: code.session_id.clone(),
            azp: client.id.as_str().to_owned(),
            idp: code.idp.clone(),
        };
        Some(keys.signer(alg).sign_jwt(ID_TOKEN_TYP, &claims)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: settings.access_token_ttl,
        id_token,
        scope: code.scope.clone(),
    })
}

/// Why a bearer token was refused.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// RFC 6750 §3.1 `invalid_token`; the text is for logs and `error_description`.
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl BearerError {
    /// The protocol error to send, `None` for an infrastructure failure (answer 500).
    pub fn to_oauth(&self) -> Option<OAuthError> {
        match self {
            Self::Invalid(why) => Some(OAuthError::new(ErrorCode::InvalidToken, why.clone())),
            Self::Store(_) => None,
        }
    }
}

/// Validates an access token presented to a resource of this issuer (userinfo): signature,
/// `typ` at+jwt, `iss`, `exp` (RFC 9068 §4), `aud` is this issuer, and its grant not revoked.
pub fn validate_bearer(
    store: &impl GrantStore,
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<AccessTokenClaims, BearerError> {
    let claims: AccessTokenClaims =
        keys.verify(token, ACCESS_TOKEN_TYP, issuer, now).map_err(|e| BearerError::Invalid(e.to_string()))?;
    // RFC 9068 §4: "The resource server MUST validate that the aud claim contains a resource
    // indicator value corresponding to an identifier the resource server expects for itself."
    if claims.aud != issuer {
        return Err(BearerError::Invalid("token is for another audience".into()));
    }
    // RFC 6750 §3.1 invalid_token: "expired, revoked, …".
    if store.is_grant_revoked(&GrantId::from_stored(claims.gid.clone()))? {
        return Err(BearerError::Invalid("token has been revoked".into()));
    }
    Ok(claims)
}

/// RFC 6749 §3.1: parameters without a value are treated as omitted.
fn present(p: &Option<String>) -> Option<&str> {
    p.as_deref().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
