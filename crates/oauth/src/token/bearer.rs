//! Bearer access token validation at this issuer's own resources (userinfo): RFC 6750,
//! RFC 9068 §4.

use tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims, KeySet};

use crate::error::{ErrorCode, OAuthError};
use crate::store::{GrantId, GrantStore, StoreError, SubjectStore};

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
/// `typ` at+jwt, `iss`, `exp` (RFC 9068 §4), `aud` is this issuer, its grant not revoked, and
/// its account still standing — the same rule introspection applies, so a resource server and
/// userinfo never disagree about one token.
pub fn validate_bearer(
    store: &(impl GrantStore + SubjectStore),
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<AccessTokenClaims, BearerError> {
    let claims: AccessTokenClaims =
        keys.verify(token, ACCESS_TOKEN_TYP, issuer, now).map_err(|e| BearerError::Invalid(e.to_string()))?;
    // RFC 9068 §4: "The resource server MUST validate that the aud claim contains a resource
    // indicator value corresponding to an identifier the resource server expects for itself."
    if !claims.aud.contains(issuer) {
        return Err(BearerError::Invalid("token is for another audience".into()));
    }
    // RFC 6750 §3.1 invalid_token: "expired, revoked, …".
    if !still_stands(store, &claims, now)? {
        return Err(BearerError::Invalid("token has been revoked".into()));
    }
    Ok(claims)
}

/// Whether a verified access token still stands: its grant not revoked, and its account
/// neither locked nor deleted nor reset since the token was issued. A machine token
/// (`client_credentials`, sub = client_id) has no account. Userinfo and introspection share it.
pub(crate) fn still_stands(
    store: &(impl GrantStore + SubjectStore),
    claims: &AccessTokenClaims,
    now: i64,
) -> Result<bool, StoreError> {
    if store.is_grant_revoked(&GrantId::from_stored(claims.gid.clone()))? {
        return Ok(false);
    }
    let machine = claims.sub == claims.client_id;
    Ok(machine || store.subject_standing(&claims.sub, now)?.allows(claims.iat))
}
