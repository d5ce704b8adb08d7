//! Token revocation (RFC 7009). A refresh token is revoked with its family, an access token with
//! the grant it carries (`gid`): either way everything issued under that grant stops working —
//! §2.1 says revoking a refresh token SHOULD also invalidate the access tokens of the same
//! grant, and revoking an access token MAY revoke the refresh token. A `client_credentials`
//! token has a grant of its own, so only it is revoked.

use tokens::KeySet;

use crate::error::{ErrorCode, OAuthError};
use crate::lookup::{self, Found, TokenHintParams};
use crate::store::{Client, GrantId, GrantStore, RefreshTokenStore};
use crate::token::{TokenGrantError, present};

/// What a revocation request did. The endpoint answers 200 either way (RFC 7009 §2.2: "invalid
/// tokens do not cause an error response"); the difference is for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    /// Unknown, expired, already revoked, or another client's token (left alone).
    NothingToDo,
}

/// Revokes `params.token` on behalf of `client`, the client that authenticated.
pub fn revoke(
    store: &(impl GrantStore + RefreshTokenStore),
    keys: &KeySet,
    issuer: &str,
    client: &Client,
    params: &TokenHintParams,
    now: i64,
) -> Result<Revocation, TokenGrantError> {
    // RFC 7009 §2.1: token is REQUIRED.
    let token = present(&params.token).ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let hint = present(&params.token_type_hint);
    // §2.1: "The authorization server first validates the client credentials … and then
    // verifies whether the token was issued to the client making the revocation request. If
    // this validation fails, the request is refused" — and §2.2 still answers 200, so another
    // client cannot probe which tokens exist.
    let grant = match lookup::find(store, keys, issuer, token, hint, now)? {
        Found::Access(claims) if claims.client_id == client.id.as_str() => {
            Some(GrantId::from_stored(claims.gid))
        }
        Found::Refresh(found) if found.token.client_id == client.id => Some(found.token.grant_id),
        Found::IdToken => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                "an ID token cannot be revoked; revoke the refresh or access token",
            )
            .into());
        }
        Found::Access(_) | Found::Refresh(_) | Found::Nothing => None,
    };
    match grant {
        Some(grant) => {
            store.revoke_grant(&grant, now)?;
            Ok(Revocation::Revoked)
        }
        None => Ok(Revocation::NothingToDo),
    }
}
