//! The `[federation]` settings: which upstream providers show a "Sign in with …" button. The
//! server embeds this under `federation`; environment variables are
//! `GATEHOUSE_FEDERATION__<PROVIDER>__<FIELD>`, e.g. `GATEHOUSE_FEDERATION__GOOGLE__CLIENT_ID`.
//! A provider with an empty `client_id` is disabled: no button, no routes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::apple::{AppleKey, AppleSettings};
use crate::facebook::{FacebookEndpoints, FacebookSettings};

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
    /// "Sign in with Apple".
    pub apple: AppleSettings,
    /// "Sign in with Microsoft".
    pub microsoft: ProviderSettings,
    /// "Sign in with Facebook".
    pub facebook: FacebookSettings,
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
            apple: AppleSettings::default(),
            microsoft: builtin(MICROSOFT_ISSUER),
            facebook: FacebookSettings::default(),
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
    pub kind: ProviderKind,
}

/// How a provider is spoken to.
#[derive(Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect with discovery (Google, Microsoft, generic providers).
    Oidc,
    /// OpenID Connect with Apple's differences: a signed client secret, `form_post`.
    Apple(AppleKey),
    /// OAuth 2.0 and the Graph API.
    Facebook(FacebookEndpoints),
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

/// A string setting that an environment variable may carry as digits only (Facebook App IDs
/// are numbers, and `GATEHOUSE_…=1234` is read as one).
pub(crate) fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        U(u64),
        I(i64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::U(n) => n.to_string(),
        Raw::I(n) => n.to_string(),
    })
}

/// A setting that stops start-up: the dotted key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {key}: {message}")]
pub struct SettingsError {
    pub key: String,
    pub message: String,
}

impl FederationSettings {
    /// The enabled providers, in the guide's button order: Google, Apple, Microsoft, Facebook,
    /// then generic ones by name.
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
        let builtin = |name: &str, label: &str, p: &ProviderSettings| {
            checked(format!("federation.{name}"), name, label, &p.issuer, p, &p.scopes)
        };
        if !self.google.client_id.trim().is_empty() {
            out.push(builtin("google", "Google", &self.google)?);
        }
        if !self.apple.client_id.trim().is_empty() {
            out.push(self.apple_config()?);
        }
        if !self.microsoft.client_id.trim().is_empty() {
            out.push(builtin("microsoft", "Microsoft", &self.microsoft)?);
        }
        let fb = &self.facebook;
        if !fb.client_id.trim().is_empty() {
            out.push(ProviderConfig {
                name: "facebook".into(),
                label: "Facebook".into(),
                issuer: fb.graph_url.trim().trim_end_matches('/').into(),
                client_id: fb.client_id.trim().into(),
                client_secret: fb.client_secret.trim().into(),
                scopes: vec!["email".into(), "public_profile".into()],
                kind: ProviderKind::Facebook(fb.endpoints()?),
            });
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

impl FederationSettings {
    /// Apple as an OpenID Connect provider with its key; `openid` is added to its scopes.
    fn apple_config(&self) -> Result<ProviderConfig, SettingsError> {
        let a = &self.apple;
        let key = a.key()?;
        let scopes = format!(
            "openid {}",
            a.scopes.split_whitespace().filter(|s| *s != "openid").collect::<Vec<_>>().join(" ")
        );
        let as_builtin = ProviderSettings {
            client_id: a.client_id.clone(),
            client_secret: String::new(),
            issuer: a.issuer.clone(),
            scopes: scopes.clone(),
        };
        let mut config =
            checked("federation.apple".into(), "apple", "Apple", &a.issuer, &as_builtin, &scopes)?;
        config.kind = ProviderKind::Apple(key);
        Ok(config)
    }
}

/// `value` as an https URL (http only on a loopback host, for tests).
pub(crate) fn web_url(key: &str, value: &str) -> Result<String, SettingsError> {
    let url = url::Url::parse(value)
        .map_err(|_| SettingsError { key: key.into(), message: format!("\"{value}\" is not a URL") })?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
        return Err(SettingsError {
            key: key.into(),
            message: "must use https (http only on a loopback host)".into(),
        });
    }
    Ok(value.into())
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
    // OIDC Core §3.1.3.7 compares the issuer exactly; discovery over plain http only on loopback.
    web_url(&format!("{key}.issuer"), issuer)?;
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
        kind: ProviderKind::Oidc,
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
