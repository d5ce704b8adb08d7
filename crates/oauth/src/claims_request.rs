//! The `claims` request parameter (OpenID Connect Core §5.5): which individual claims a client
//! wants, and where (`userinfo`, `id_token`).
//!
//! gatehouse releases a requested claim when it is a standard claim (§5.1) whose scope (§5.4)
//! the client is registered for, even when the request did not ask for that scope: the claims
//! parameter is the finer-grained way to ask (§5.5). `essential` (§5.5.1) is recorded but never
//! fails a request: an absent value (an account without a phone number) is simply omitted, as
//! §5.5.1 allows ("the Authorization Server … MUST NOT generate an error"). `value`/`values` are
//! honoured for `sub` only (§5.5.1.1: only that End-User may be signed in); for other claims they
//! are hints and ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::{Profile, userinfo_claims};
use crate::error::OAuthError;
use crate::scope::Scopes;

/// One requested claim's options (§5.5.1): `null` on the wire is the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSpec {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub essential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// A parsed `claims` parameter. Members other than `userinfo` and `id_token` are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub userinfo: BTreeMap<String, Option<ClaimSpec>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_token: BTreeMap<String, Option<ClaimSpec>>,
}

/// The wire shape, where a member may be `null`.
#[derive(Deserialize)]
struct Wire {
    userinfo: Option<BTreeMap<String, Option<ClaimSpec>>>,
    id_token: Option<BTreeMap<String, Option<ClaimSpec>>>,
}

/// The standard claims a scope stands for (OIDC Core §5.4), as gatehouse serves them.
const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    ("profile", &["name", "given_name", "family_name", "updated_at"]),
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// The scope whose claims include `claim`, if it is a user claim gatehouse can release.
pub fn scope_of(claim: &str) -> Option<&'static str> {
    SCOPE_CLAIMS.iter().find(|(_, claims)| claims.contains(&claim)).map(|(scope, _)| *scope)
}

impl ClaimsRequest {
    /// Parses the parameter: a JSON object (§5.5), each member an object of claim names to
    /// `null` or an object. Anything else is `invalid_request`.
    pub fn parse(raw: &str) -> Result<ClaimsRequest, OAuthError> {
        let wire: Wire = serde_json::from_str(raw)
            .map_err(|_| OAuthError::invalid_request("claims must be a JSON object as in OIDC Core §5.5"))?;
        Ok(ClaimsRequest {
            userinfo: wire.userinfo.unwrap_or_default(),
            id_token: wire.id_token.unwrap_or_default(),
        })
    }

    /// Normalised JSON, to store with the code and the grant.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads what [`to_json`](Self::to_json) stored; a row this version cannot read asks for
    /// nothing.
    pub fn from_stored(json: &str) -> ClaimsRequest {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// The `sub` value the request insists on (§5.5.1.1), if any.
    pub fn required_subject(&self) -> Option<&str> {
        let spec = self.id_token.get("sub").or_else(|| self.userinfo.get("sub"))?;
        spec.as_ref()?.value.as_ref()?.as_str()
    }

    /// The scopes the requested claims stand for that `client_scopes` allows: what consent
    /// must cover besides the requested scopes.
    pub fn scopes(&self, client_scopes: &[String]) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for name in self.userinfo.keys().chain(self.id_token.keys()) {
            if let Some(scope) = scope_of(name)
                && client_scopes.iter().any(|s| s == scope)
                && !out.contains(&scope)
            {
                out.push(scope);
            }
        }
        out
    }
}

/// The values of the `requested` claims that a client registered for `client_scopes` may
/// receive, from `profile`. Claims without a value are omitted (§5.3.2).
pub fn released(
    requested: &BTreeMap<String, Option<ClaimSpec>>,
    client_scopes: &[String],
    profile: &Profile,
) -> Map<String, Value> {
    let all = userinfo_claims(&Scopes::from_tokens(["openid", "profile", "email", "phone"]), profile);
    requested
        .keys()
        .filter(|name| scope_of(name).is_some_and(|scope| client_scopes.iter().any(|s| s == scope)))
        .filter_map(|name| all.get(name).map(|v| (name.clone(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> Profile {
        Profile {
            sub: "acct-1".into(),
            name: Some("Ada Lovelace".into()),
            given_name: None,
            family_name: None,
            email: "ada@example.org".into(),
            email_verified: true,
            phone_number: None,
            updated_at: 1,
        }
    }

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_null_and_object_members_and_ignores_unknown_ones() {
        let c = ClaimsRequest::parse(
            r#"{"id_token":{"email":null,"auth_time":{"essential":true}},"userinfo":null,"x":1}"#,
        )
        .unwrap();
        assert_eq!(c.id_token.len(), 2);
        assert!(c.id_token["auth_time"].as_ref().unwrap().essential);
        assert!(c.userinfo.is_empty());
        let again = ClaimsRequest::from_stored(&c.to_json());
        assert_eq!(again, c);
    }

    #[test]
    fn malformed_claims_are_invalid_request() {
        for bad in [
            "",
            "[]",
            "\"email\"",
            r#"{"id_token":["email"]}"#,
            r#"{"id_token":{"email":{"essential":"yes"}}}"#,
        ] {
            let e = ClaimsRequest::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn only_claims_of_registered_scopes_are_released_and_absent_values_omitted() {
        let c = ClaimsRequest::parse(
            r#"{"id_token":{"email":null,"name":{"essential":true},"phone_number":{"essential":true},"sub":null}}"#,
        )
        .unwrap();
        let got = released(&c.id_token, &scopes(&["openid", "email", "phone"]), &profile());
        // name: profile scope not registered; phone_number: no value; sub: not a user claim here.
        assert_eq!(Value::Object(got), json!({"email": "ada@example.org"}));
        assert_eq!(
            c.scopes(&scopes(&["openid", "email", "phone", "profile"])),
            ["email", "profile", "phone"]
        );
        assert_eq!(c.scopes(&scopes(&["openid"])), Vec::<&str>::new());
    }

    #[test]
    fn a_sub_value_is_a_required_subject() {
        let c = ClaimsRequest::parse(r#"{"id_token":{"sub":{"value":"acct-9"}}}"#).unwrap();
        assert_eq!(c.required_subject(), Some("acct-9"));
        assert_eq!(ClaimsRequest::parse(r#"{"id_token":{"sub":null}}"#).unwrap().required_subject(), None);
    }
}
