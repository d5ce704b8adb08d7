//! Scopes to claims (OpenID Connect Core §5.4), and what discovery advertises.

use serde_json::{Map, Value};

use crate::scope::Scopes;

/// The scopes gatehouse understands (OIDC Core §5.4, and §11 `offline_access` for refresh
/// tokens), for discovery's `scopes_supported`.
pub const SUPPORTED_SCOPES: &[&str] = &["openid", "profile", "email", "phone", "offline_access"];

/// Every claim gatehouse can put in an ID token or a userinfo response, for discovery's
/// `claims_supported` (OIDC Discovery §3).
pub const SUPPORTED_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "amr",
    "azp",
    "sid",
    // The upstream provider of a federated sign-in ("Sign in with Google").
    "idp",
    "name",
    "given_name",
    "family_name",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
];

/// What the account knows about the End-User, as the claims source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub sub: String,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub phone_number: Option<String>,
    /// Unix seconds (OIDC Core §5.1 `updated_at`).
    pub updated_at: i64,
}

/// The claims a userinfo response carries for these scopes. OIDC Core §5.3.2: `sub` is always
/// returned; §5.4 maps `profile`, `email` and `phone` to their claims; absent values are omitted
/// rather than sent as null (§5.3.2: "If a Claim is not returned, that Claim Name SHOULD be
/// omitted").
pub fn userinfo_claims(scopes: &Scopes, p: &Profile) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), p.sub.clone().into());
    if scopes.contains("profile") {
        put_opt(&mut m, "name", &p.name);
        put_opt(&mut m, "given_name", &p.given_name);
        put_opt(&mut m, "family_name", &p.family_name);
        m.insert("updated_at".into(), p.updated_at.into());
    }
    if scopes.contains("email") {
        m.insert("email".into(), p.email.clone().into());
        m.insert("email_verified".into(), p.email_verified.into());
    }
    if scopes.contains("phone")
        && let Some(phone) = &p.phone_number
    {
        m.insert("phone_number".into(), phone.clone().into());
        // Numbers are not verified by gatehouse (yet): say so, OIDC Core §5.1.
        m.insert("phone_number_verified".into(), false.into());
    }
    m
}

fn put_opt(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(key.into(), v.clone().into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> Profile {
        Profile {
            sub: "acct-1".into(),
            name: Some("Ada Lovelace".into()),
            given_name: Some("Ada".into()),
            family_name: None,
            email: "ada@example.org".into(),
            email_verified: true,
            phone_number: Some("+1 404 555 0100".into()),
            updated_at: 1_700_000_000,
        }
    }

    fn claims(scope: &str, p: &Profile) -> Value {
        Value::Object(userinfo_claims(&Scopes::parse(scope).unwrap(), p))
    }

    #[test]
    fn openid_alone_gives_only_sub() {
        assert_eq!(claims("openid", &profile()), json!({"sub": "acct-1"}));
    }

    #[test]
    fn profile_scope_gives_present_profile_claims_only() {
        assert_eq!(
            claims("openid profile", &profile()),
            json!({"sub": "acct-1", "name": "Ada Lovelace", "given_name": "Ada",
                   "updated_at": 1_700_000_000})
        );
    }

    #[test]
    fn email_scope_gives_email_and_verified() {
        assert_eq!(
            claims("openid email", &profile()),
            json!({"sub": "acct-1", "email": "ada@example.org", "email_verified": true})
        );
    }

    #[test]
    fn phone_scope_gives_unverified_phone_when_present() {
        assert_eq!(
            claims("openid phone", &profile()),
            json!({"sub": "acct-1", "phone_number": "+1 404 555 0100",
                   "phone_number_verified": false})
        );
        let mut p = profile();
        p.phone_number = None;
        assert_eq!(claims("openid phone", &p), json!({"sub": "acct-1"}));
    }

    #[test]
    fn every_returned_claim_is_advertised() {
        let m = userinfo_claims(&Scopes::from_tokens(SUPPORTED_SCOPES.iter().copied()), &profile());
        for k in m.keys() {
            assert!(SUPPORTED_CLAIMS.contains(&k.as_str()), "{k} not in SUPPORTED_CLAIMS");
        }
    }
}
