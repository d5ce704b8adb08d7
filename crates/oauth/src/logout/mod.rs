//! Ending a browser session at a relying party's request (OpenID Connect RP-Initiated Logout
//! 1.0), and telling the other relying parties of that session (Back-Channel Logout 1.0, in
//! [`backchannel`]).
//!
//! ```text
//! id_token_hint ──bad signature / issuer / type──▶ error page
//! client_id ≠ the hint's aud, or unknown client ──▶ error page
//! post_logout_redirect_uri not registered ───────▶ error page, no redirect (§3)
//!        │ ok: a LogoutRequest
//! the hint names this browser's session (sid) ───▶ sign out now
//! no hint, or another session ───────────────────▶ "Sign out?" confirmation (CSRF-protected)
//!        ▼
//! session ended ──▶ post_logout_redirect_uri?state=… or "You are signed out"
//! ```

pub mod backchannel;

use tokens::{ID_TOKEN_TYP, IdTokenClaims, KeySet};

use crate::store::{Client, ClientId};

pub use backchannel::{
    BackChannelStore, Delivery, DeliveryOutcome, PendingLogout, check_backchannel_uri, logout_token_claims,
};

/// The parameters of a logout request (RP-Initiated Logout §2), from the query (GET) or the
/// form body (POST). `ui_locales` is accepted and ignored: the hosted pages speak English.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    #[serde(skip_serializing)]
    pub ui_locales: Option<String>,
}

/// What a verified `id_token_hint` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedHint {
    /// The account id (`sub`).
    pub subject: String,
    /// The browser session the ID token was issued in.
    pub sid: String,
    /// The client the ID token was issued to (its `aud`).
    pub client_id: ClientId,
}

/// Why a logout request is refused. Each message is shown on the error page.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    #[error("The sign-out request carried an ID token that this provider did not issue.")]
    InvalidHint,
    #[error("The sign-out request names a portal that is not registered.")]
    UnknownClient,
    #[error("The sign-out request names two different portals.")]
    ClientMismatch,
    #[error("The sign-out request asks to return to an address the portal has not registered.")]
    UnregisteredRedirect,
    #[error("The sign-out request asks to return to a portal without saying which portal it is.")]
    RedirectWithoutClient,
}

/// A logout request that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutRequest {
    pub hint: Option<VerifiedHint>,
    /// Where to send the browser afterwards, `state` already appended (RP-Initiated §3).
    pub redirect: Option<String>,
}

impl LogoutRequest {
    /// Whether the request may end `session` without asking: only when a valid hint names
    /// exactly this session and its account. Anything else could be a logout CSRF (a link on
    /// another site), so the End-User confirms (RP-Initiated §2, §6 "Security Considerations").
    pub fn names_session(&self, session_id: &str, account_id: &str) -> bool {
        self.hint.as_ref().is_some_and(|h| h.sid == session_id && h.subject == account_id)
    }
}

/// Verifies an `id_token_hint`: signed by one of our keys, typed as our ID tokens, issued by
/// us. RP-Initiated §2: "The OP need not be listed as an audience of the ID Token when it is
/// used as an id_token_hint value" and it SHOULD accept it when expired, so `exp` is not
/// checked. Any failure is [`LogoutError::InvalidHint`].
pub fn verify_hint(keys: &KeySet, token: &str, issuer: &str) -> Result<VerifiedHint, LogoutError> {
    let claims: IdTokenClaims =
        keys.verify_allowing_expired(token, ID_TOKEN_TYP, issuer).map_err(|_| LogoutError::InvalidHint)?;
    Ok(VerifiedHint { subject: claims.sub, sid: claims.sid, client_id: ClientId::from_stored(claims.aud) })
}

/// The client a request names: the hint's `aud`, or `client_id`. RP-Initiated §2 `client_id`:
/// "When both client_id and id_token_hint are present, the OP MUST verify that the Client
/// Identifier matches the one used when issuing the ID Token."
pub fn named_client(
    params: &LogoutParams,
    hint: Option<&VerifiedHint>,
) -> Result<Option<ClientId>, LogoutError> {
    let given = params.client_id.as_deref().filter(|c| !c.is_empty());
    match (hint, given) {
        (Some(h), Some(id)) if h.client_id.as_str() != id => Err(LogoutError::ClientMismatch),
        (Some(h), _) => Ok(Some(h.client_id.clone())),
        (None, Some(id)) => Ok(Some(ClientId::from_stored(id.to_owned()))),
        (None, None) => Ok(None),
    }
}

/// Checks the request against the client it names (`client` is what the store found for
/// [`named_client`]; `None` when it names one that does not exist).
pub fn validate(
    params: &LogoutParams,
    hint: Option<VerifiedHint>,
    named: Option<&ClientId>,
    client: Option<&Client>,
) -> Result<LogoutRequest, LogoutError> {
    if named.is_some() && client.is_none() {
        return Err(LogoutError::UnknownClient);
    }
    let redirect = match params.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(uri) => {
            let client = client.ok_or(LogoutError::RedirectWithoutClient)?;
            // RP-Initiated §3: "The OP MUST NOT perform post-logout redirection if the
            // post_logout_redirect_uri value supplied does not exactly match one of the
            // previously registered post_logout_redirect_uris values."
            if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return Err(LogoutError::UnregisteredRedirect);
            }
            Some(with_state(uri, params.state.as_deref()))
        }
    };
    Ok(LogoutRequest { hint, redirect })
}

/// `uri` with `state` added to its query (RP-Initiated §3: "If the state parameter was passed
/// … the OP MUST pass it back"). Done on the string, as for the authorization response, so
/// the registered URI is kept byte for byte (a parsed URL would be normalised: `https://A.example`
/// became `https://a.example/`).
fn with_state(uri: &str, state: Option<&str>) -> String {
    match state.filter(|s| !s.is_empty()) {
        Some(state) => {
            let query =
                url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish();
            crate::authorize::append_query(uri, &query)
        }
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests;
