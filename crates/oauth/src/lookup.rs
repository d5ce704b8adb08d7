//! What a presented token is, for revocation (RFC 7009) and introspection (RFC 7662): a JWT
//! access token this issuer signed and that has not expired, a stored refresh token, an ID
//! token, or nothing we know.

use serde::Deserialize;
use tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims, ID_TOKEN_TYP, IdTokenClaims, KeySet, TokenHash};

use crate::store::{RefreshToken, RefreshTokenStore, StoreError};

/// The form of a revocation or introspection request (RFC 7009 §2.1, RFC 7662 §2.1), plus the
/// client credentials a body may carry.
#[derive(Deserialize, Default, Debug)]
pub struct TokenHintParams {
    pub token: Option<String>,
    /// `access_token` or `refresh_token`: which store to try first. Only a hint (RFC 7009
    /// §2.1: "If the server is unable to locate the token using the given hint, it MUST
    /// extend its search across all of its supported token types").
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// RFC 7523 §2.2 client authentication.
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl TokenHintParams {
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

#[derive(Debug)]
pub(crate) enum Found {
    Access(AccessTokenClaims),
    Refresh(RefreshToken),
    /// A live ID token of this issuer: a token, but not one that can be revoked or introspected.
    IdToken,
    /// Unknown, malformed, expired, or signed by someone else.
    Nothing,
}

pub(crate) fn find(
    store: &impl RefreshTokenStore,
    keys: &KeySet,
    issuer: &str,
    token: &str,
    hint: Option<&str>,
    now: i64,
) -> Result<Found, StoreError> {
    let as_access = || keys.verify::<AccessTokenClaims>(token, ACCESS_TOKEN_TYP, issuer, now).ok();
    let as_refresh = || store.find_refresh_token(&TokenHash::of(token));
    if hint == Some("refresh_token") {
        if let Some(found) = as_refresh()? {
            return Ok(Found::Refresh(found));
        }
        if let Some(claims) = as_access() {
            return Ok(Found::Access(claims));
        }
    } else {
        if let Some(claims) = as_access() {
            return Ok(Found::Access(claims));
        }
        if let Some(found) = as_refresh()? {
            return Ok(Found::Refresh(found));
        }
    }
    if keys.verify::<IdTokenClaims>(token, ID_TOKEN_TYP, issuer, now).is_ok() {
        return Ok(Found::IdToken);
    }
    Ok(Found::Nothing)
}
