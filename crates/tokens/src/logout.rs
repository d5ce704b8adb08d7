//! Logout tokens: OpenID Connect Back-Channel Logout 1.0 §2.4.

use serde::{Deserialize, Serialize};

/// JWS header `typ` of logout tokens (Back-Channel Logout §2.4: "explicitly typed …
/// `logout+jwt`").
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// The one member of a logout token's `events` claim (Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The claims of a logout token (Back-Channel Logout §2.4). There is no `nonce`: "A nonce
/// Claim MUST NOT be present", so that a logout token can never pass for an ID token.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LogoutTokenClaims {
    pub iss: String,
    /// The End-User's account id, as in the ID tokens this client received.
    pub sub: String,
    /// The client id of the relying party being told.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The session that ended (the `sid` of the client's ID tokens).
    pub sid: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Value,
}

impl LogoutTokenClaims {
    /// A logout token issued at `now`, valid for `ttl` seconds.
    pub fn new(iss: &str, aud: &str, sub: &str, sid: &str, jti: String, now: i64, ttl: i64) -> Self {
        LogoutTokenClaims {
            iss: iss.to_owned(),
            sub: sub.to_owned(),
            aud: aud.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl),
            jti,
            sid: sid.to_owned(),
            events: serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, KeySet, SigningKey};

    #[test]
    fn logout_token_has_the_event_sid_and_no_nonce() {
        let claims =
            LogoutTokenClaims::new("https://id.example", "c1", "acct", "sid-1", "j1".into(), 100, 120);
        let json = serde_json::to_value(&claims).unwrap();
        assert!(json.get("nonce").is_none());
        assert_eq!(json["events"], serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
        assert_eq!((json["iat"].as_i64(), json["exp"].as_i64()), (Some(100), Some(220)));
        assert_eq!((json["aud"].as_str(), json["sid"].as_str()), (Some("c1"), Some("sid-1")));
    }

    #[test]
    fn a_signed_logout_token_verifies_only_as_a_logout_token() {
        let keys = KeySet::from_keys(vec![
            SigningKey::generate(Algorithm::Rs256, 1).unwrap(),
            SigningKey::generate(Algorithm::Es256, 1).unwrap(),
        ])
        .unwrap();
        let claims =
            LogoutTokenClaims::new("https://id.example", "c1", "acct", "sid-1", "j1".into(), 100, 120);
        let jwt = keys.signer(Algorithm::Es256).sign_jwt(LOGOUT_TOKEN_TYP, &claims).unwrap();
        let back: LogoutTokenClaims = keys.verify(&jwt, LOGOUT_TOKEN_TYP, "https://id.example", 150).unwrap();
        assert_eq!(back, claims);
        assert!(
            keys.verify::<LogoutTokenClaims>(&jwt, crate::ID_TOKEN_TYP, "https://id.example", 150).is_err()
        );
    }
}
