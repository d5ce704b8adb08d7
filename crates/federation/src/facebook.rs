//! "Sign in with Facebook": OAuth 2.0 and the Graph API, not OpenID Connect, as Facebook
//! documents it in "Manually Build a Login Flow"
//! (developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
//!
//! ```text
//!  start:    {authorize_url}?client_id&redirect_uri&state&response_type=code&scope
//!            (+ PKCE S256 challenge)
//!  callback: code ─▶ GET {token_url}?client_id&redirect_uri&client_secret&code(&code_verifier)
//!            ─▶ access_token ─▶ GET {graph_url}/me?fields=id,name,email&access_token
//!               &appsecret_proof ─▶ ExternalIdentity (sub = the app-scoped user id)
//! ```
//!
//! `appsecret_proof` is the hex HMAC-SHA256 of the access token keyed with the app secret
//! ("Securing Graph API Requests"): with "Require App Secret" on, a stolen token alone is
//! useless. Facebook returns only a confirmed email, and none when the person declined the
//! `email` permission or has none; so an email here counts as verified.

use std::fmt;

use aws_lc_rs::hmac;
use openidconnect::reqwest;
use openidconnect::{PkceCodeChallenge, PkceCodeVerifier};
use serde::{Deserialize, Serialize};

use crate::{Callback, ExternalIdentity, FederationError, FlowSecrets, SettingsError};

pub const FACEBOOK_AUTHORIZE_URL: &str = "https://www.facebook.com/v19.0/dialog/oauth";
pub const FACEBOOK_TOKEN_URL: &str = "https://graph.facebook.com/v19.0/oauth/access_token";
pub const FACEBOOK_GRAPH_URL: &str = "https://graph.facebook.com/v19.0";
/// The permissions asked for: `email` is the one that matters; `public_profile` gives the name.
const SCOPE: &str = "email,public_profile";

/// `[federation.facebook]`.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FacebookSettings {
    /// The App ID; empty disables Facebook.
    #[serde(deserialize_with = "crate::settings::string_or_number")]
    pub client_id: String,
    /// The App Secret.
    pub client_secret: String,
    /// The Login dialog; override only to point at a test provider.
    pub authorize_url: String,
    /// The code exchange endpoint.
    pub token_url: String,
    /// The Graph API base, without a trailing slash.
    pub graph_url: String,
}

impl Default for FacebookSettings {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: String::new(),
            authorize_url: FACEBOOK_AUTHORIZE_URL.into(),
            token_url: FACEBOOK_TOKEN_URL.into(),
            graph_url: FACEBOOK_GRAPH_URL.into(),
        }
    }
}

/// The app secret never reaches a log.
impl fmt::Debug for FacebookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FacebookSettings")
            .field("client_id", &self.client_id)
            .field("graph_url", &self.graph_url)
            .finish_non_exhaustive()
    }
}

/// Facebook's endpoints, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacebookEndpoints {
    pub authorize_url: String,
    pub token_url: String,
    pub graph_url: String,
}

impl FacebookSettings {
    pub(crate) fn endpoints(&self) -> Result<FacebookEndpoints, SettingsError> {
        if self.client_secret.trim().is_empty() {
            return Err(SettingsError {
                key: "federation.facebook.client_secret".into(),
                message: "required when client_id is set".into(),
            });
        }
        let url = |key: &str, value: &str| {
            crate::settings::web_url(
                &format!("federation.facebook.{key}"),
                value.trim().trim_end_matches('/'),
            )
        };
        Ok(FacebookEndpoints {
            authorize_url: url("authorize_url", &self.authorize_url)?,
            token_url: url("token_url", &self.token_url)?,
            graph_url: url("graph_url", &self.graph_url)?,
        })
    }
}

/// The Login dialog URL, with `state` (RFC 6749 §10.12) and the PKCE S256 challenge.
pub(crate) fn authorization_url(
    endpoints: &FacebookEndpoints,
    client_id: &str,
    redirect_uri: &str,
    secrets: &FlowSecrets,
) -> Result<String, FederationError> {
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(secrets.pkce_verifier.clone()));
    let mut url = url::Url::parse(&endpoints.authorize_url)
        .map_err(|e| FederationError::Upstream(format!("authorize_url: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", &secrets.state)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPE)
        // "Re-asking for Declined Permissions": shows the email permission again to someone
        // who declined it before.
        .append_pair("auth_type", "rerequest")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    name: Option<String>,
    email: Option<String>,
}

/// The hex HMAC-SHA256 of `access_token` keyed with the app secret ("Securing Graph API
/// Requests", developers.facebook.com/docs/graph-api/securing-requests).
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    hmac::sign(&key, access_token.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Redeems the code and asks the Graph API who signed in.
pub(crate) async fn finish(
    http: &reqwest::Client,
    endpoints: &FacebookEndpoints,
    (client_id, client_secret): (&str, &str),
    redirect_uri: &str,
    callback: &Callback,
    secrets: &FlowSecrets,
) -> Result<ExternalIdentity, FederationError> {
    let code = callback.code()?;
    let token: TokenResponse = get_json(
        http,
        "token endpoint",
        &endpoints.token_url,
        &[
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("client_secret", client_secret),
            ("code", code),
            ("code_verifier", &secrets.pkce_verifier),
        ],
    )
    .await?;
    let proof = appsecret_proof(client_secret, &token.access_token);
    let me: Me = get_json(
        http,
        "Graph API /me",
        &format!("{}/me", endpoints.graph_url),
        &[("fields", "id,name,email"), ("access_token", &token.access_token), ("appsecret_proof", &proof)],
    )
    .await?;
    if me.id.is_empty() {
        return Err(FederationError::Upstream("Graph API /me without an id".into()));
    }
    let email = me.email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    Ok(ExternalIdentity {
        provider: "facebook".into(),
        subject: me.id,
        email_verified: email.is_some(),
        email,
        name: me.name,
        given_name: None,
        family_name: None,
        // Facebook Login is OAuth 2.0: no ID token, no `amr`.
        upstream_amr: vec![],
    })
}

/// A GET answered with JSON; Facebook's errors are `{"error": {"message", "type", "code"}}`
/// with a 4xx status.
async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    what: &str,
    url: &str,
    query: &[(&str, &str)],
) -> Result<T, FederationError> {
    let response = http
        .get(url)
        .query(query)
        .send()
        .await
        .map_err(|e| FederationError::Unreachable(format!("{what}: {}", e.without_url())))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| FederationError::Unreachable(format!("{what}: {}", e.without_url())))?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(FederationError::Upstream(format!("{what}: status {status}: {detail}")));
    }
    serde_json::from_slice(&body).map_err(|e| FederationError::Upstream(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_is_the_hex_hmac_sha256_of_the_token() {
        // RFC 4231-style known answer: HMAC-SHA256("key", "The quick brown fox …").
        assert_eq!(
            appsecret_proof("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_ne!(appsecret_proof("other", "t"), appsecret_proof("key", "t"));
    }

    #[test]
    fn the_dialog_url_carries_state_scope_and_pkce() {
        let endpoints =
            FacebookSettings { client_secret: "s".into(), ..Default::default() }.endpoints().unwrap();
        let secrets =
            FlowSecrets { state: "st".repeat(22), nonce: String::new(), pkce_verifier: "v".repeat(43) };
        let url =
            authorization_url(&endpoints, "app", "https://id.example/federation/facebook/callback", &secrets)
                .unwrap();
        let url = url::Url::parse(&url).unwrap();
        assert_eq!(url.host_str(), Some("www.facebook.com"));
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "app");
        assert_eq!(q["state"], "st".repeat(22));
        assert_eq!(q["scope"], "email,public_profile");
        assert_eq!(q["code_challenge_method"], "S256");
    }

    #[test]
    fn a_secret_is_required_and_secrets_stay_out_of_debug() {
        let s = FacebookSettings { client_id: "app".into(), ..Default::default() };
        assert_eq!(s.endpoints().unwrap_err().key, "federation.facebook.client_secret");
        let s = FacebookSettings { client_secret: "hunter2".into(), ..s };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
