//! Token introspection (RFC 7662). Only confidential clients may ask, and a client learns about
//! a token only if it was issued to it or names it as audience (by client id or by one of the
//! client's registered audiences); anything else is `{"active": false}`, exactly like an
//! unknown, expired, revoked or malformed token (§2.2), so nothing leaks about other clients'
//! tokens.

use serde::Serialize;
use tokens::{Audience, KeySet};

use crate::error::OAuthError;
use crate::lookup::{self, Found, TokenHintParams};
use crate::store::{Client, GrantStore, RefreshTokenStore, SubjectStore};
use crate::token::{TokenGrantError, present};

/// The introspection response (RFC 7662 §2.2). An inactive token is `{"active": false}` alone.
#[derive(Serialize, Debug, Default, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self::default()
    }
}

pub trait IntrospectionStore: GrantStore + RefreshTokenStore + SubjectStore {}
impl<T: GrantStore + RefreshTokenStore + SubjectStore> IntrospectionStore for T {}

/// Describes `params.token` to `client`, the client that authenticated.
pub fn introspect(
    store: &impl IntrospectionStore,
    keys: &KeySet,
    issuer: &str,
    client: &Client,
    params: &TokenHintParams,
    now: i64,
) -> Result<Introspection, TokenGrantError> {
    // RFC 7662 §2.1: the endpoint "MUST require some form of authorization"; a public client
    // has no credentials to present.
    if client.is_public() {
        return Err(OAuthError::invalid_client("introspection is for confidential clients").into());
    }
    let token = present(&params.token).ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let hint = present(&params.token_type_hint);
    Ok(match lookup::find(store, keys, issuer, token, hint, now)? {
        Found::Access(claims) => {
            let mine = claims.client_id == client.id.as_str()
                || claims.aud.contains(client.id.as_str())
                || client.audiences.iter().any(|a| claims.aud.contains(a));
            if !mine || !crate::token::still_stands(store, &claims, now)? {
                return Ok(Introspection::inactive());
            }
            Introspection {
                active: true,
                scope: Some(claims.scope),
                client_id: Some(claims.client_id),
                token_type: Some("Bearer"),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                sub: Some(claims.sub),
                aud: Some(claims.aud),
                iss: Some(claims.iss),
                jti: Some(claims.jti),
            }
        }
        Found::Refresh(found) => {
            let t = found.token;
            let live = t.client_id == client.id
                && found.used_at.is_none()
                && now < t.expires_at
                && !store.is_grant_revoked(&t.grant_id)?
                && store.subject_standing(&t.subject, now)?.allows(t.family_issued_at);
            if !live {
                return Ok(Introspection::inactive());
            }
            Introspection {
                active: true,
                scope: Some(t.scope),
                client_id: Some(t.client_id.as_str().to_owned()),
                exp: Some(t.expires_at),
                iat: Some(t.created_at),
                sub: Some(t.subject),
                iss: Some(issuer.to_owned()),
                ..Introspection::default()
            }
        }
        Found::IdToken | Found::Nothing => Introspection::inactive(),
    })
}

#[cfg(test)]
#[path = "introspect_tests.rs"]
mod tests;
