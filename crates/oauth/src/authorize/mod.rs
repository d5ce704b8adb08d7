//! The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1), in two steps:
//!
//! ```text
//! params ──resolve_redirect──▶ redirect_uri ──validate──▶ AuthorizationRequest ──decide──▶ …
//!            │ error: a page, never a redirect    │ error: redirect with error + state
//!            ▼ (RFC 6749 §4.1.2.1, §3.1.2.4)      ▼ (error_redirect)
//! ```
//!
//! Until the client and its redirect URI are known good, nothing may be sent to the redirect
//! URI: an open redirector is the attack (RFC 9700 §4.11). Even then an error goes there only
//! once the End-User has signed in, or at once for a silent request
//! ([`AuthorizationParams::error_delivery`], §4.11.2).

pub mod consent;
mod hint;
pub mod par;
mod response;
mod session;

use serde::{Deserialize, Serialize};

use crate::claims_request::ClaimsRequest;
use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use crate::scope::Scopes;
use crate::store::{Client, ClientId};

pub use consent::ConsentDecision;
pub use hint::hint_subject;
pub(crate) use response::append_query;
pub use response::{AuthorizationResponse, ResponseMode, error_redirect, success_redirect};
pub use session::{CodeGrant, SessionDecision};

/// The parameters of an authorization request, from the query or a POSTed form
/// (OIDC Core §3.1.2.1). Unknown parameters are ignored, as §3.1.2.1 requires. Serialised
/// (absent ones left out) to store a pushed request or carry one through the sign-in pages.
#[derive(Deserialize, Serialize, Default, Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub display: Option<String>,
    pub ui_locales: Option<String>,
    pub claims: Option<String>,
    pub id_token_hint: Option<String>,
    pub acr_values: Option<String>,
}

impl AuthorizationParams {
    /// Every parameter name above.
    pub const NAMES: &[&str] = &[
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "login_hint",
        "response_mode",
        "request",
        "request_uri",
        "display",
        "ui_locales",
        "claims",
        "id_token_hint",
        "acr_values",
    ];

    /// The request to come back with after the sign-in pages: without `prompt=login`,
    /// `max_age` and `id_token_hint`. The sign-in just made honours all three, and judging them
    /// again would loop (`max_age=0` once the clock ticks; a hint naming another account). The
    /// ID token still carries `auth_time` (OIDC Core §3.1.2.1, max_age).
    pub fn for_return_trip(&self) -> AuthorizationParams {
        let mut back = self.clone();
        back.prompt = self.prompt.as_deref().and_then(|p| {
            let rest: Vec<&str> = p.split(' ').filter(|v| !v.is_empty() && *v != "login").collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        });
        back.max_age = None;
        back.id_token_hint = None;
        back
    }

    /// How the error of this request goes back to its (registered) redirect URI. RFC 9700
    /// §4.11.2: "The authorization server MUST always authenticate the user first and, with the
    /// exception of the silent authentication use case, prompt the user for credentials when
    /// needed, before redirecting the user." Without that, a registered client's deliberately
    /// broken request turns the sign-in service's address into a redirector to the client's site.
    pub fn error_delivery(&self, signed_in: bool) -> ErrorDelivery {
        let silent = self.prompt.as_deref().is_some_and(|p| p.split(' ').any(|v| v == "none"));
        if signed_in || silent { ErrorDelivery::Redirect } else { ErrorDelivery::SignInFirst }
    }
}

/// See [`AuthorizationParams::error_delivery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDelivery {
    /// Send the error response now.
    Redirect,
    /// Show the sign-in pages; the request, sent again once the End-User has signed in, fails
    /// again and then redirects.
    SignInFirst,
}

/// RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from
/// the request."
fn present(p: &Option<String>) -> Option<&str> {
    p.as_deref().filter(|s| !s.is_empty())
}

/// Why an authorization request cannot even be answered by redirect. Shown to the End-User on a
/// page; the text is for a person, not a developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizePageError {
    #[error("The application that sent you here did not say who it is (client_id is missing).")]
    MissingClientId,
    #[error("The application that sent you here is not registered with this sign-in service.")]
    UnknownClient,
    #[error("The application that sent you here did not say where to return (redirect_uri is missing).")]
    MissingRedirectUri,
    #[error("The application that sent you here asked to return to an address it has not registered.")]
    UnregisteredRedirectUri,
}

/// Step 1: the client and the redirect URI. `client` is what the store found for
/// `params.client_id` (`None` if nothing). Returns the redirect URI to use for everything after.
pub fn resolve_redirect(
    params: &AuthorizationParams,
    client: Option<&Client>,
) -> Result<String, AuthorizePageError> {
    let client_id = present(&params.client_id).ok_or(AuthorizePageError::MissingClientId)?;
    let client = client.filter(|c| c.id.as_str() == client_id).ok_or(AuthorizePageError::UnknownClient)?;
    // OIDC Core §3.1.2.1: redirect_uri is REQUIRED (unlike RFC 6749 §4.1.1).
    let uri = present(&params.redirect_uri).ok_or(AuthorizePageError::MissingRedirectUri)?;
    // RFC 9700 §4.1.3 and OIDC Core §3.1.2.1: exact string match against a registered value,
    // but for the port of a loopback IP redirect URI (RFC 8252 §7.3).
    if client.redirect_uris.iter().any(|r| redirect_uri_matches(r, uri)) {
        Ok(uri.to_owned())
    } else {
        Err(AuthorizePageError::UnregisteredRedirectUri)
    }
}

/// Whether `requested` is the registered redirect URI `registered`: the same string, or, when
/// both are `http` on a loopback IP literal (`127.0.0.1` or `[::1]`), the same string but for the
/// port. RFC 8252 §7.3 (and RFC 9700 §2.1): "The authorization server MUST allow any port to be
/// specified at the time of the request for loopback IP redirect URIs", since a native app
/// listens on whatever port the OS gives it. `localhost` keeps the exact rule (§8.3 advises
/// against it). The code stays bound to the URI with its port (RFC 6749 §4.1.3).
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    ["http://127.0.0.1", "http://[::1]"].iter().any(|host| {
        match (registered.strip_prefix(host), requested.strip_prefix(host)) {
            (Some(r), Some(q)) => matches!((after_port(r), after_port(q)), (Some(a), Some(b)) if a == b),
            _ => false,
        }
    })
}

/// What follows the authority of a loopback URI once its optional `:port` (1–65535) is skipped;
/// `None` unless a path, a query or nothing follows.
fn after_port(rest: &str) -> Option<&str> {
    let rest = match rest.strip_prefix(':') {
        Some(port_and_rest) => {
            let digits = port_and_rest.bytes().take_while(u8::is_ascii_digit).count();
            let port: u16 = port_and_rest[..digits].parse().ok()?;
            if port == 0 || port_and_rest.starts_with('0') {
                return None;
            }
            &port_and_rest[digits..]
        }
        None => rest,
    };
    (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')).then_some(rest)
}

/// A validated authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 (RFC 7636 §4.2).
    pub code_challenge: String,
    pub prompt_none: bool,
    pub prompt_login: bool,
    /// `prompt=consent`: ask even a first-party client's End-User.
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub response_mode: ResponseMode,
    /// The `claims` parameter (OIDC Core §5.5).
    pub claims: Option<ClaimsRequest>,
    /// The raw `id_token_hint`; its subject is checked by [`hint_subject`], which needs keys.
    pub id_token_hint: Option<String>,
    /// Only this account may be signed in: the `sub` of `id_token_hint`, or the `sub` value of
    /// the claims parameter (OIDC Core §3.1.2.1, §5.5.1.1).
    pub required_subject: Option<String>,
}

/// Step 2: every other rule. Errors here go back to the client by [`error_redirect`], with the
/// request's `state`.
pub fn validate(
    params: &AuthorizationParams,
    client: &Client,
    redirect_uri: String,
) -> Result<AuthorizationRequest, OAuthError> {
    // OIDC Core §6: request objects are not supported (advertised in discovery).
    if present(&params.request).is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "the request parameter is not supported",
        ));
    }
    // A pushed request's URN (RFC 9126) was expanded before this step; any other request_uri
    // would be a request object by reference (§6.2), not supported either.
    if present(&params.request_uri).is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "the request_uri parameter is not supported",
        ));
    }
    // RFC 6749 §4.1.1: response_type is REQUIRED and "code" is the only flow offered.
    match present(&params.response_type) {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    // RFC 6749 §4.1.2.1 unauthorized_client: the client is not registered for this flow.
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(OAuthError::unauthorized_client("this client may not use the authorization code flow"));
    }
    // OAuth 2.0 Multiple Response Types §2.1: the code flow's default mode is query; gatehouse
    // also offers form_post (OAuth 2.0 Form Post Response Mode §2), never fragment.
    let response_mode = match present(&params.response_mode) {
        None => ResponseMode::Query,
        Some(mode) => ResponseMode::parse(mode)
            .ok_or_else(|| OAuthError::invalid_request("response_mode must be query or form_post"))?,
    };
    // OIDC Core §3.1.2.1: scope is REQUIRED and MUST contain openid.
    let scopes = Scopes::parse(present(&params.scope).unwrap_or(""))?;
    if !scopes.contains("openid") {
        return Err(OAuthError::invalid_scope("scope must include openid"));
    }
    let scopes = scopes.allowed_by(&client.scopes)?;
    // RFC 9700 §2.1.1: PKCE for every client, S256 only.
    let code_challenge = present(&params.code_challenge)
        .ok_or_else(|| OAuthError::invalid_request("code_challenge required (PKCE S256)"))?;
    pkce::validate_challenge(code_challenge, present(&params.code_challenge_method))?;
    let (prompt_none, prompt_login, prompt_consent) = parse_prompt(present(&params.prompt))?;
    let max_age = match present(&params.max_age) {
        None => None,
        // OIDC Core §3.1.2.1: max_age is a number of seconds, so non-negative.
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(OAuthError::invalid_request("max_age must be a non-negative integer"));
            }
        },
    };
    let claims = present(&params.claims).map(ClaimsRequest::parse).transpose()?;
    Ok(AuthorizationRequest {
        required_subject: claims.as_ref().and_then(|c| c.required_subject()).map(str::to_owned),
        claims,
        response_mode,
        prompt_consent,
        id_token_hint: present(&params.id_token_hint).map(str::to_owned),
        client_id: client.id.clone(),
        redirect_uri,
        scopes,
        state: present(&params.state).map(str::to_owned),
        nonce: present(&params.nonce).map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        prompt_none,
        prompt_login,
        max_age,
        login_hint: present(&params.login_hint).map(str::to_owned),
    })
}

/// OIDC Core §3.1.2.1 `prompt`: a space-delimited set of none, login, consent, select_account.
/// Returns `(none, login, consent)`. `select_account` is accepted and needs no extra step: a
/// browser has one account signed in at a time.
fn parse_prompt(prompt: Option<&str>) -> Result<(bool, bool, bool), OAuthError> {
    let (mut none, mut login, mut consent, mut other) = (false, false, false, false);
    for v in prompt.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        match v {
            "none" => none = true,
            "login" => login = true,
            "consent" => consent = true,
            "select_account" => other = true,
            _ => return Err(OAuthError::invalid_request(format!("unknown prompt value {v}"))),
        }
    }
    // §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
    if none && (login || consent || other) {
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok((none, login, consent))
}

#[cfg(test)]
pub(crate) mod tests;
