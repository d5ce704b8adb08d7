//! "Sign in with Apple": its settings, the client secret gatehouse signs itself, and the
//! `user` form field. Apple is otherwise an OpenID Connect provider (it publishes
//! `https://appleid.apple.com/.well-known/openid-configuration`), so discovery, the code
//! exchange and ID token validation are the generic client's.
//!
//! Apple's documented differences (developer.apple.com/documentation/sign_in_with_apple):
//! - "Generate and validate tokens": the `client_secret` is an ES256 JWT signed with the
//!   team's private key (header `kid` = key id; claims `iss` = team id, `iat`, `exp` at most
//!   15777000 s (6 months) later, `aud` = `https://appleid.apple.com`, `sub` = the Services
//!   ID), sent in the request body (`client_secret_post`).
//! - "Request an authorization to the Sign in with Apple server": asking for `name` or `email`
//!   requires `response_mode=form_post`, so the answer is a cross-site POST.
//! - "Incorporating Sign in with Apple into other platforms": the `user` field (JSON with
//!   `name.firstName`, `name.lastName`) is posted only on the first authorization.

use std::fmt;
use std::sync::Mutex;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::{ExternalIdentity, FederationError, SettingsError};

/// Apple's issuer, and the `aud` of the client secret.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
/// Apple's scopes; `openid` is added to every request.
pub const APPLE_SCOPES: &str = "name email";
/// How long a client secret lives: Apple allows 6 months, a short one limits a leak.
const SECRET_TTL: i64 = 300;
/// A cached secret is replaced this long before it expires.
const SECRET_MARGIN: i64 = 60;

/// `[federation.apple]`.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AppleSettings {
    /// The Services ID (e.g. `gov.atlanta.id`); empty disables Apple.
    pub client_id: String,
    /// The Apple Developer team id: the client secret's `iss`.
    #[serde(deserialize_with = "crate::settings::string_or_number")]
    pub team_id: String,
    /// The Sign in with Apple key's id: the client secret's `kid`.
    #[serde(deserialize_with = "crate::settings::string_or_number")]
    pub key_id: String,
    /// The key's `.p8` file contents (PKCS#8 PEM, P-256).
    pub private_key: String,
    /// Or the path of the `.p8` file; set one of the two.
    pub private_key_file: String,
    /// Apple's issuer; override only to point at a test provider.
    pub issuer: String,
    /// Space-separated; `openid` is always added.
    pub scopes: String,
}

impl Default for AppleSettings {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            team_id: String::new(),
            key_id: String::new(),
            private_key: String::new(),
            private_key_file: String::new(),
            issuer: APPLE_ISSUER.into(),
            scopes: APPLE_SCOPES.into(),
        }
    }
}

/// The private key never reaches a log.
impl fmt::Debug for AppleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppleSettings")
            .field("client_id", &self.client_id)
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// What signs Apple client secrets, checked at start-up.
#[derive(Clone, PartialEq, Eq)]
pub struct AppleKey {
    pub team_id: String,
    pub key_id: String,
    /// PKCS#8 DER of the P-256 key.
    pub pkcs8: Vec<u8>,
}

/// The private key never reaches a log.
impl fmt::Debug for AppleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppleKey")
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl AppleSettings {
    /// The signing key, read and parsed; errors name the key to fix.
    pub(crate) fn key(&self) -> Result<AppleKey, SettingsError> {
        let err =
            |key: &str, message: String| SettingsError { key: format!("federation.apple.{key}"), message };
        for (key, value) in [("team_id", &self.team_id), ("key_id", &self.key_id)] {
            if value.trim().is_empty() {
                return Err(err(key, "required when client_id is set".into()));
            }
        }
        let (key, pem) = match (self.private_key.trim().is_empty(), self.private_key_file.trim().is_empty()) {
            (false, true) => ("private_key", self.private_key.clone()),
            (true, false) => (
                "private_key_file",
                std::fs::read_to_string(self.private_key_file.trim())
                    .map_err(|e| err("private_key_file", format!("{}: {e}", self.private_key_file)))?,
            ),
            _ => {
                return Err(err("private_key", "set exactly one of private_key and private_key_file".into()));
            }
        };
        let pkcs8 = pem_to_der(&pem).ok_or_else(|| err(key, "not a PEM \"PRIVATE KEY\" (.p8)".into()))?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
            .map_err(|_| err(key, "not a P-256 private key".into()))?;
        Ok(AppleKey { team_id: self.team_id.trim().into(), key_id: self.key_id.trim().into(), pkcs8 })
    }
}

/// The body of a PEM `PRIVATE KEY` block; `\n` written literally (an environment variable) is
/// a line break.
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let pem = pem.replace("\\n", "\n");
    let body = pem.split("-----BEGIN PRIVATE KEY-----").nth(1)?.split("-----END PRIVATE KEY-----").next()?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok()
}

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'a str,
    sub: &'a str,
}

/// Signs client secrets with a key pair parsed once, and keeps the current one until
/// shortly before it expires.
pub(crate) struct ClientSecret {
    key_pair: EcdsaKeyPair,
    key_id: String,
    team_id: String,
    client_id: String,
    audience: String,
    cached: Mutex<Option<(String, i64)>>,
}

impl ClientSecret {
    pub(crate) fn new(key: &AppleKey, client_id: &str, audience: &str) -> Result<Self, SettingsError> {
        let key_pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.pkcs8).map_err(|_| {
                SettingsError {
                    key: "federation.apple.private_key".into(),
                    message: "not a P-256 private key".into(),
                }
            })?;
        Ok(Self {
            key_pair,
            key_id: key.key_id.clone(),
            team_id: key.team_id.clone(),
            client_id: client_id.into(),
            audience: audience.into(),
            cached: Mutex::new(None),
        })
    }

    /// The secret to send at `now` (unix seconds).
    pub(crate) fn at(&self, now: i64) -> Result<String, FederationError> {
        if let Ok(cached) = self.cached.lock()
            && let Some((jwt, exp)) = cached.as_ref()
            && now + SECRET_MARGIN < *exp
        {
            return Ok(jwt.clone());
        }
        let jwt = self.sign(now)?;
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((jwt.clone(), now + SECRET_TTL));
        }
        Ok(jwt)
    }

    /// A fresh ES256 JWT (RFC 7515 §A.3: the signature is R || S, 64 bytes).
    pub(crate) fn sign(&self, now: i64) -> Result<String, FederationError> {
        let header = serde_json::json!({ "alg": "ES256", "kid": self.key_id });
        let claims = SecretClaims {
            iss: &self.team_id,
            iat: now,
            exp: now + SECRET_TTL,
            aud: &self.audience,
            sub: &self.client_id,
        };
        let json = |v: serde_json::Result<Vec<u8>>| {
            v.map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
                .map_err(|e| FederationError::Upstream(format!("Apple client secret: {e}")))
        };
        let input = format!("{}.{}", json(serde_json::to_vec(&header))?, json(serde_json::to_vec(&claims))?);
        let signature = self
            .key_pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| FederationError::Upstream("could not sign the Apple client secret".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())))
    }
}

/// The `user` form field of Apple's first authorization.
#[derive(Deserialize)]
struct PostedUser {
    name: Option<PostedName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedName {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// Takes the name from the `user` field. It is not signed, so it supplies only the name, never
/// the email (the ID token's), and only where the ID token has none.
pub(crate) fn add_posted_name(user: &str, identity: &mut ExternalIdentity) {
    let Ok(PostedUser { name: Some(name) }) = serde_json::from_str::<PostedUser>(user) else {
        return;
    };
    let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (given, family) = (clean(name.first_name), clean(name.last_name));
    let full = match (&given, &family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (g, f) => g.clone().or_else(|| f.clone()),
    };
    identity.given_name = identity.given_name.take().or(given);
    identity.family_name = identity.family_name.take().or(family);
    identity.name = identity.name.take().or(full);
}

#[cfg(test)]
#[path = "apple_tests.rs"]
mod tests;
