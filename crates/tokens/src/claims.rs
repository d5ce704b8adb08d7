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

/// JWT access token claims: RFC 9068 §2.2, header `typ` "at+jwt" (§2.1).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    pub auth_time: i64,
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
}
