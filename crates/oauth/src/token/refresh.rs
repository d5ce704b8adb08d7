//! The `refresh_token` grant (RFC 6749 §6; RFC 9700 §4.14; OpenID Connect Core §12).
//!
//! Refresh tokens are opaque 256-bit secrets stored as SHA-256, and rotate on every use. All
//! rotations of one token form a family named by the grant id of the code that started it, so
//! revoking that grant revokes the family and every access token carrying its `gid`.
//!
//! ```text
//! issued ──refresh (first, checks pass)──▶ used, and a new token in the family
//!    │                                       │
//!    │                                       └─ presented again ──▶ invalid_grant, and the
//!    │                                          whole family (its grant) is revoked (RFC 9700
//!    │                                          §4.14.2)
//!    ├─ idle or absolute lifetime over ──▶ invalid_grant
//!    └─ grant revoked, account deleted or its tokens revoked ──▶ invalid_grant
//! ```

use tokens::{KeySet, OpaqueToken, TokenHash};

use super::{Issue, TokenGrantError, TokenResponse, TokenSettings, TokenStore, mint, present};
use crate::error::OAuthError;
use crate::scope::Scopes;
use crate::store::{
    Client, GrantStore, Issuance, NewRefreshToken, RefreshState, RefreshToken, Rotation, StoreError,
    SubjectStanding,
};

pub(super) fn refresh(
    store: &impl TokenStore,
    keys: &KeySet,
    settings: &TokenSettings,
    client: &Client,
    params: &super::TokenParams,
    now: i64,
    ip: Option<&str>,
) -> Result<TokenResponse, TokenGrantError> {
    let presented = present(&params.refresh_token)
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let old_hash = TokenHash::of(presented);
    // One read for every check below, one write for the rotation and its audit record.
    let Some(RefreshState { token: RefreshToken { token: old, used_at }, grant_revoked, standing, claims }) =
        store.refresh_state(&old_hash, now)?
    else {
        return Err(OAuthError::invalid_grant("unknown refresh token").into());
    };
    // RFC 6749 §6: "validate the refresh token … ensure that the refresh token was issued to
    // the authenticated client". Another client's token is refused and left alone.
    if old.client_id != client.id {
        return Err(OAuthError::invalid_grant("refresh token was issued to another client").into());
    }
    // RFC 9700 §4.14.2: a rotated token presented again means one of two parties holds a
    // stolen copy; the server cannot tell which, so the whole family goes.
    if used_at.is_some() {
        revoke_family(store, &old, now)?;
        return Err(OAuthError::invalid_grant("refresh token already used; its family is revoked").into());
    }
    if now >= old.expires_at {
        return Err(OAuthError::invalid_grant("refresh token expired").into());
    }
    if grant_revoked {
        return Err(OAuthError::invalid_grant("refresh token has been revoked").into());
    }
    let scope = narrowed_scope(params.scope.as_deref(), &old.scope)?;
    match standing {
        // A lock passes (unlock, cool-down): refuse, keep the family.
        SubjectStanding::Locked => {
            return Err(OAuthError::invalid_grant("the account is locked").into());
        }
        standing if standing.allows(old.family_issued_at) => {}
        // Deleted, or its tokens revoked since the family began (a password reset).
        _ => {
            revoke_family(store, &old, now)?;
            return Err(OAuthError::invalid_grant("the account's tokens have been revoked").into());
        }
    }

    // OIDC Core §12.2 and §5.5: a refreshed ID token carries what the claims request asked for.
    let user_claims = super::id_token_claims(store, client, &old.subject, claims.as_deref())?;
    let issue = Issue {
        user_claims: &user_claims,
        grant_id: &old.grant_id,
        subject: &old.subject,
        scope: &scope,
        auth_time: old.auth_time,
        amr: &old.amr,
        session_id: &old.session_id,
        nonce: None,
        // OIDC Core §12.2: the refreshed ID token describes the original authentication.
        idp: old.idp.as_deref(),
    };
    // RFC 6749 §6: "the refresh token scope MUST be identical to that of the refresh token
    // included by the client in the request" — narrowing applies to the access token only.
    let (secret, next) = new_token(settings, client, &issue, &old.scope, old.family_issued_at, now);
    let issued = issuance(client, &old.subject, "refresh_token", ip, now);
    match store.rotate_refresh_token(&old_hash, &next, now, &issued)? {
        Rotation::Rotated => {}
        // Lost a race with another use of the same token: that is a reuse too.
        Rotation::AlreadyUsed => {
            revoke_family(store, &old, now)?;
            return Err(OAuthError::invalid_grant("refresh token already used; its family is revoked").into());
        }
        Rotation::Unknown => return Err(OAuthError::invalid_grant("unknown refresh token").into()),
    }
    let mut response = mint(keys, settings, client, &issue, now)?;
    response.refresh_token = Some(secret.expose().to_owned());
    Ok(response)
}

/// RFC 6749 §6: the requested scope "MUST NOT include any scope not originally granted by the
/// resource owner, and if omitted is treated as equal to the scope originally granted".
fn narrowed_scope(requested: Option<&str>, granted: &str) -> Result<String, OAuthError> {
    let granted_list: Vec<String> = granted.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let requested = Scopes::parse(requested.unwrap_or(""))?;
    if requested.is_empty() {
        return Ok(granted.to_owned());
    }
    let narrowed = requested
        .allowed_by(&granted_list)
        .map_err(|_| OAuthError::invalid_scope("the requested scope exceeds the scope originally granted"))?;
    Ok(narrowed.to_string())
}

/// The audit record of tokens issued to `subject` (the store files it with the grant's write).
pub(crate) fn issuance(
    client: &Client,
    subject: &str,
    grant_type: &'static str,
    ip: Option<&str>,
    now: i64,
) -> Issuance {
    Issuance {
        subject: subject.to_owned(),
        client_id: client.id.clone(),
        grant_type,
        ip: ip.map(str::to_owned),
        at: now,
    }
}

/// Revokes a refresh token family: its grant, so every token carrying the grant id dies too.
pub(crate) fn revoke_family(
    store: &impl GrantStore,
    token: &NewRefreshToken,
    now: i64,
) -> Result<(), StoreError> {
    store.revoke_grant(&token.grant_id, now)
}

/// A new refresh token of the family started at `family_issued_at`: it expires after the idle
/// lifetime, but never after the family's absolute lifetime (RFC 9700 §4.14.2).
pub(crate) fn new_token(
    settings: &TokenSettings,
    client: &Client,
    issue: &Issue<'_>,
    granted_scope: &str,
    family_issued_at: i64,
    now: i64,
) -> (OpaqueToken, NewRefreshToken) {
    let idle = client.refresh_token_idle_ttl.unwrap_or(settings.refresh_token_idle_ttl);
    let absolute = client.refresh_token_absolute_ttl.unwrap_or(settings.refresh_token_absolute_ttl);
    let expires_at = now.saturating_add(idle).min(family_issued_at.saturating_add(absolute));
    let secret = OpaqueToken::generate();
    let row = NewRefreshToken {
        token_hash: secret.hash(),
        grant_id: issue.grant_id.clone(),
        client_id: client.id.clone(),
        subject: issue.subject.to_owned(),
        scope: granted_scope.to_owned(),
        session_id: issue.session_id.to_owned(),
        auth_time: issue.auth_time,
        amr: issue.amr.to_vec(),
        family_issued_at,
        created_at: now,
        expires_at,
        idp: issue.idp.map(str::to_owned),
    };
    (secret, row)
}
