//! The claim sets of the JWTs gatehouse issues.

use serde::{Deserialize, Serialize};

/// JWS header `typ` of ID tokens (OIDC Core does not require one; "JWT" is conventional).
pub const ID_TOKEN_TYP: &str = "JWT";
/// JWS header `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// ID token claims: OpenID Connect Core §2, validated by clients as in §3.1.3.7.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    /// Echoed from the authorization request (OIDC Core §3.1.2.1) when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// See [`crate::at_hash`] (OIDC Core §3.1.3.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    pub amr: Vec<String>,
    /// Session id (OpenID Connect Back-Channel/Front-Channel Logout).
    pub sid: String,
    pub azp: String,
    /// The upstream provider the End-User signed in with ("google"), when they did. Not a
    /// registered claim: a portal that does not know it ignores it (OIDC Core §5.1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
}

/// The `aud` claim (RFC 7519 §4.1.3): one audience is a string on the wire, several an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(Vec<String>);

impl Audience {
    pub fn new(audiences: Vec<String>) -> Self {
        Self(audiences)
    }

    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|a| a == audience)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Self(vec![audience.to_owned()])
    }
}

impl From<String> for Audience {
    fn from(audience: String) -> Self {
        Self(vec![audience])
    }
}

impl Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(one) => Self(vec![one]),
            OneOrMany::Many(many) => Self(many),
        })
    }
}

/// JWT access token claims: RFC 9068 §2.2, header `typ` "at+jwt" (§2.1).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The end-user's authentication (RFC 9068 §2.2.1); none for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The grant this token belongs to; revoking it makes the token inactive.
    pub gid: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_nonce_and_at_hash_are_omitted() {
        let claims = IdTokenClaims {
            iss: "https://id.example".into(),
            sub: "s".into(),
            aud: "c".into(),
            exp: 2,
            iat: 1,
            auth_time: 1,
            nonce: None,
            at_hash: None,
            amr: vec!["pwd".into()],
            sid: "sid".into(),
            azp: "c".into(),
            idp: None,
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert!(json.get("nonce").is_none());
        assert!(json.get("at_hash").is_none());
        assert_eq!(json["amr"], serde_json::json!(["pwd"]));
        let back: IdTokenClaims = serde_json::from_value(json).unwrap();
        assert_eq!(back, claims);
    }

    #[test]
    fn one_audience_is_a_string_and_several_an_array() {
        let one = Audience::from("https://id.example");
        assert_eq!(serde_json::to_value(&one).unwrap(), serde_json::json!("https://id.example"));
        let many = Audience::new(vec!["https://a.example".into(), "https://b.example".into()]);
        let json = serde_json::to_value(&many).unwrap();
        assert_eq!(json, serde_json::json!(["https://a.example", "https://b.example"]));
        assert_eq!(serde_json::from_value::<Audience>(json).unwrap(), many);
        let back: Audience = serde_json::from_value(serde_json::json!("https://id.example")).unwrap();
        assert!(back.contains("https://id.example") && !back.contains("https://a.example"));
    }
}
