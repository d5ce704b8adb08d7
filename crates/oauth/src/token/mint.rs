//! Signing the tokens of a grant for a user: the RFC 9068 access token and, for `openid`, the
//! ID token. Shared by the code exchange and the refresh grant.

use tokens::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, Algorithm, ID_TOKEN_TYP, IdTokenClaims, KeySet, TokenError, at_hash,
};

use super::{TokenResponse, TokenSettings};
use crate::claims_request::{ClaimsRequest, released};
use crate::store::{Client, GrantId, StoreError, SubjectStore};

/// The End-User claims the grant's `claims` request (OIDC Core §5.5) asks to have in the ID
/// token, as far as `client` may receive them. Empty without a request.
pub(crate) fn id_token_claims(
    store: &impl SubjectStore,
    client: &Client,
    subject: &str,
    claims: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    let Some(request) = claims.map(ClaimsRequest::from_stored).filter(|c| !c.id_token.is_empty()) else {
        return Ok(Default::default());
    };
    Ok(match store.subject_profile(subject)? {
        Some(profile) => released(&request.id_token, &client.scopes, &profile),
        None => Default::default(),
    })
}

/// What the tokens of one grant carry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Issue<'a> {
    pub grant_id: &'a GrantId,
    pub subject: &'a str,
    /// Space-separated scopes of the access token.
    pub scope: &'a str,
    /// The original authentication (OIDC Core §12.2: kept across refreshes).
    pub auth_time: i64,
    pub amr: &'a [String],
    pub session_id: &'a str,
    /// Only on the code exchange (OIDC Core §12.2: a refreshed ID token has no nonce).
    pub nonce: Option<&'a str>,
    /// The upstream provider the End-User signed in with (the ID token's `idp`); a refresh
    /// token family keeps it, with `auth_time` and `amr` (OIDC Core §12.2).
    pub idp: Option<&'a str>,
    /// End-User claims the `claims` parameter asked for in the ID token (OIDC Core §5.5).
    pub user_claims: &'a serde_json::Map<String, serde_json::Value>,
}

pub(crate) fn mint(
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    issue: &Issue<'_>,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    // RFC 9068 §2.2: the JWT access token's claims; `aud` is this issuer (userinfo is its only
    // resource), `gid` ties it to its grant for revocation.
    let at_claims = AccessTokenClaims {
        iss: settings.issuer.clone(),
        sub: issue.subject.to_owned(),
        aud: settings.issuer.as_str().into(),
        exp: now.saturating_add(settings.access_token_ttl),
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: client.id.as_str().to_owned(),
        scope: issue.scope.to_owned(),
        auth_time: Some(issue.auth_time),
        gid: issue.grant_id.as_str().to_owned(),
    };
    // RFC 9068 §2.1: typ "at+jwt".
    let access_token = keys.signer(settings.access_token_alg).sign_jwt(ACCESS_TOKEN_TYP, &at_claims)?;

    let id_token = if issue.scope.split(' ').any(|s| s == "openid") {
        // Validated at registration; a stored value this version does not know falls back to
        // the default, RS256 (OIDC Dynamic Registration §2).
        let alg = Algorithm::parse(&client.id_token_signed_response_alg).unwrap_or(Algorithm::Rs256);
        // OIDC Core §2 and §3.1.3.6 (at_hash); §12.2 for a refresh: same iss, sub, aud, azp
        // and auth_time, a new iat.
        let claims = IdTokenClaims {
            iss: settings.issuer.clone(),
            sub: issue.subject.to_owned(),
            aud: client.id.as_str().to_owned(),
            exp: now.saturating_add(settings.id_token_ttl),
            iat: now,
            auth_time: issue.auth_time,
            nonce: issue.nonce.map(str::to_owned),
            at_hash: Some(at_hash(&access_token, alg)),
            amr: issue.amr.to_vec(),
            sid: issue.session_id.to_owned(),
            azp: client.id.as_str().to_owned(),
            idp: issue.idp.map(str::to_owned),
        };
        let mut claims = match serde_json::to_value(&claims) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Err(TokenError::Malformed),
        };
        // The protocol claims above always win over a requested user claim of the same name.
        for (name, value) in issue.user_claims {
            claims.entry(name.clone()).or_insert_with(|| value.clone());
        }
        Some(keys.signer(alg).sign_jwt(ID_TOKEN_TYP, &claims)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: settings.access_token_ttl,
        id_token,
        refresh_token: None,
        scope: issue.scope.to_owned(),
    })
}
