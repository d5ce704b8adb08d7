//! The `[federation]` settings: which upstream providers show a "Sign in with …" button. The
//! server embeds this under `federation`; environment variables are
//! `GATEHOUSE_FEDERATION__<PROVIDER>__<FIELD>`, e.g. `GATEHOUSE_FEDERATION__GOOGLE__CLIENT_ID`.
//! A provider with an empty `client_id` is disabled: no button, no routes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Google's issuer (https://developers.google.com/identity/openid-connect/openid-connect#discovery).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Microsoft identity platform, any tenant and personal accounts. Its discovery document names
/// the issuer `https://login.microsoftonline.com/{tenantid}/v2.0`.
pub const MICROSOFT_ISSUER: &str = "https://login.microsoftonline.com/common/v2.0";
/// What gatehouse asks every upstream for.
pub const DEFAULT_SCOPES: &str = "openid email profile";

/// Names a generic provider may not take: the built-in ones, and `email` (the local method).
const RESERVED: &[&str] = &["google", "microsoft", "apple", "facebook", "email"];

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// "Sign in with Google".
    pub google: ProviderSettings,
    /// "Sign in with Microsoft".
    pub microsoft: ProviderSettings,
    /// Generic OpenID Connect providers by name: `[federation.oidc.<name>]`.
    pub oidc: BTreeMap<String, GenericProviderSettings>,
    /// Seconds any request to an upstream may take (discovery, keys, token, userinfo).
    pub http_timeout_secs: u64,
    /// Seconds a citizen has to finish signing in upstream.
    pub flow_ttl_secs: i64,
}

/// A built-in provider (Google, Microsoft).
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// The client id registered with the provider; empty disables it.
    pub client_id: String,
    pub client_secret: String,
    /// The provider's issuer; override only to point at another issuer (a test provider).
    pub issuer: String,
    /// Space-separated scopes; must include `openid`.
    pub scopes: String,
}

/// A generic OpenID Connect provider, configured by settings alone.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct GenericProviderSettings {
    /// The button text: "Sign in with <label>".
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: String,
}

impl Default for FederationSettings {
    fn default() -> Self {
        let builtin = |issuer: &str| ProviderSettings {
            client_id: String::new(),
            client_secret: String::new(),
            issuer: issuer.into(),
            scopes: DEFAULT_SCOPES.into(),
        };
        Self {
            google: builtin(GOOGLE_ISSUER),
            microsoft: builtin(MICROSOFT_ISSUER),
            oidc: BTreeMap::new(),
            http_timeout_secs: 10,
            flow_ttl_secs: 600,
        }
    }
}

/// One enabled provider, whatever its kind.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// `google`, `microsoft`, or the generic provider's name: in URLs and the account binding.
    pub name: String,
    /// The button reads "Sign in with {label}".
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The client secret never reaches a log.
impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("client_id", &self.client_id)
            .field("issuer", &self.issuer)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for GenericProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericProviderSettings")
            .field("label", &self.label)
            .field("client_id", &self.client_id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// A setting that stops start-up: the dotted key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {key}: {message}")]
pub struct SettingsError {
    pub key: String,
    pub message: String,
}

impl FederationSettings {
    /// The enabled providers, in button order: Google, Microsoft, then generic ones by name.
    /// Fails with the key to fix when an enabled provider is incomplete.
    pub fn providers(&self) -> Result<Vec<ProviderConfig>, SettingsError> {
        let err = |key: String, message: &str| SettingsError { key, message: message.into() };
        if self.http_timeout_secs == 0 {
            return Err(err("federation.http_timeout_secs".into(), "must be at least 1"));
        }
        if self.flow_ttl_secs <= 0 {
            return Err(err("federation.flow_ttl_secs".into(), "must be a positive number of seconds"));
        }
        let mut out = Vec::new();
        for (name, label, p) in
            [("google", "Google", &self.google), ("microsoft", "Microsoft", &self.microsoft)]
        {
            if p.client_id.trim().is_empty() {
                continue;
            }
            out.push(checked(format!("federation.{name}"), name, label, &p.issuer, p, &p.scopes)?);
        }
        for (name, g) in &self.oidc {
            let key = format!("federation.oidc.{name}");
            let valid_name = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_name || RESERVED.contains(&name.as_str()) {
                return Err(err(
                    key,
                    "the name must be lowercase letters, digits or '-', and not a built-in provider",
                ));
            }
            if g.label.trim().is_empty() {
                return Err(err(
                    format!("{key}.label"),
                    "required: the button reads \"Sign in with <label>\"",
                ));
            }
            if g.client_id.trim().is_empty() {
                return Err(err(format!("{key}.client_id"), "required"));
            }
            let as_builtin = ProviderSettings {
                client_id: g.client_id.clone(),
                client_secret: g.client_secret.clone(),
                issuer: g.issuer.clone(),
                scopes: g.scopes.clone(),
            };
            let scopes = if g.scopes.trim().is_empty() { DEFAULT_SCOPES } else { g.scopes.as_str() };
            out.push(checked(key, name, g.label.trim(), &g.issuer, &as_builtin, scopes)?);
        }
        Ok(out)
    }
}

fn checked(
    key: String,
    name: &str,
    label: &str,
    issuer: &str,
    p: &ProviderSettings,
    scopes: &str,
) -> Result<ProviderConfig, SettingsError> {
    let issuer = issuer.trim().trim_end_matches('/');
    let url = url::Url::parse(issuer).map_err(|_| SettingsError {
        key: format!("{key}.issuer"),
        message: format!("\"{issuer}\" is not a URL"),
    })?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    // OIDC Core §3.1.3.7 compares the issuer exactly; discovery over plain http only on loopback.
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
        return Err(SettingsError {
            key: format!("{key}.issuer"),
            message: "must use https (http only on a loopback host)".into(),
        });
    }
    let scopes: Vec<String> = scopes.split_whitespace().map(str::to_owned).collect();
    // OIDC Core §3.1.2.1: "OpenID Connect requests MUST contain the openid scope value."
    if !scopes.iter().any(|s| s == "openid") {
        return Err(SettingsError { key: format!("{key}.scopes"), message: "must include openid".into() });
    }
    Ok(ProviderConfig {
        name: name.into(),
        label: label.into(),
        issuer: issuer.into(),
        client_id: p.client_id.trim().into(),
        client_secret: p.client_secret.clone(),
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_enabled_by_default() {
        let s = FederationSettings::default();
        assert!(s.providers().unwrap().is_empty());
        assert_eq!(s.google.issuer, GOOGLE_ISSUER);
        assert_eq!(s.microsoft.issuer, MICROSOFT_ISSUER);
        assert_eq!(s.google.scopes, "openid email profile");
    }

    #[test]
    fn a_client_id_enables_a_provider_in_button_order() {
        let mut s = FederationSettings::default();
        s.microsoft.client_id = "m".into();
        s.google.client_id = "g".into();
        s.oidc.insert(
            "city".into(),
            GenericProviderSettings {
                label: "City ID".into(),
                issuer: "https://id.city.example/".into(),
                client_id: "c".into(),
                ..Default::default()
            },
        );
        let names: Vec<_> = s.providers().unwrap().into_iter().map(|p| (p.name, p.label, p.issuer)).collect();
        assert_eq!(
            names,
            [
                ("google".to_owned(), "Google".to_owned(), GOOGLE_ISSUER.to_owned()),
                ("microsoft".into(), "Microsoft".into(), MICROSOFT_ISSUER.into()),
                ("city".into(), "City ID".into(), "https://id.city.example".into()),
            ]
        );
    }

    #[test]
    fn bad_providers_are_named() {
        let mut s = FederationSettings::default();
        s.google.client_id = "g".into();
        s.google.issuer = "http://accounts.example".into();
        assert_eq!(s.providers().unwrap_err().key, "federation.google.issuer");
        s.google.issuer = GOOGLE_ISSUER.into();
        s.google.scopes = "email".into();
        assert_eq!(s.providers().unwrap_err().key, "federation.google.scopes");
        let mut s = FederationSettings::default();
        s.oidc.insert("google".into(), GenericProviderSettings::default());
        assert_eq!(s.providers().unwrap_err().key, "federation.oidc.google");
        let mut s = FederationSettings::default();
        s.oidc.insert("city".into(), GenericProviderSettings { client_id: "c".into(), ..Default::default() });
        assert_eq!(s.providers().unwrap_err().key, "federation.oidc.city.label");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let mut s = FederationSettings::default();
        s.google.client_secret = "hunter2".into();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
