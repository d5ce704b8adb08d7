//! Scope values (RFC 6749 §3.3): an ordered set of scope tokens, space-separated on the wire.

use crate::error::OAuthError;

/// An ordered set of scope tokens: first occurrence wins, duplicates are dropped
/// (RFC 6749 §3.3: "The strings are … order does not matter").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-delimited `scope` parameter. RFC 6749 §3.3:
    /// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`; anything else is `invalid_scope`.
    /// Runs of spaces are tolerated (empty tokens are skipped).
    pub fn parse(s: &str) -> Result<Self, OAuthError> {
        let mut out = Vec::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token.bytes().all(is_scope_char) {
                return Err(OAuthError::invalid_scope(
                    "scope has a character RFC 6749 section 3.3 does not allow",
                ));
            }
            if !out.iter().any(|t: &String| t == token) {
                out.push(token.to_owned());
            }
        }
        Ok(Self(out))
    }

    /// Builds a set from trusted tokens (a client's registered list), keeping the first of any
    /// duplicate.
    pub fn from_tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> Self {
        let mut out: Vec<String> = Vec::new();
        for t in tokens {
            let t = t.into();
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Self(out)
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The set, unchanged, when every token is in `allowed` (the client's registered scopes);
    /// otherwise `invalid_scope` naming the first token that is not (RFC 6749 §4.1.2.1).
    pub fn allowed_by(&self, allowed: &[String]) -> Result<Scopes, OAuthError> {
        match self.0.iter().find(|t| !allowed.contains(t)) {
            Some(t) => Err(OAuthError::invalid_scope(format!("scope {t} is not allowed for this client"))),
            None => Ok(self.clone()),
        }
    }
}

/// `%x21 / %x23-5B / %x5D-7E`: printable ASCII except space, `"` and `\`.
fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// Space-separated, in order: the wire form (RFC 6749 §3.3).
impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn parses_space_separated_tokens_in_order_without_duplicates() {
        let s = Scopes::parse("openid  email openid profile").unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), ["openid", "email", "profile"]);
        assert_eq!(s.to_string(), "openid email profile");
        assert!(s.contains("email"));
        assert!(!s.contains("phone"));
        assert!(!s.contains("open"));
    }

    #[test]
    fn empty_scope_is_an_empty_set() {
        assert!(Scopes::parse("").unwrap().is_empty());
        assert!(Scopes::parse("   ").unwrap().is_empty());
    }

    #[test]
    fn characters_outside_rfc6749_section_3_3_are_invalid_scope() {
        for bad in ["openid\temail", "open\"id", "open\\id", "openid émail", "a\nb"] {
            let e = Scopes::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidScope, "{bad:?}");
        }
        assert!(Scopes::parse("urn:x-city:permit#read!~").is_ok());
    }

    #[test]
    fn allowed_by_rejects_a_scope_the_client_may_not_ask_for() {
        let allowed = vec!["openid".to_owned(), "email".to_owned()];
        let ok = Scopes::parse("email openid").unwrap();
        assert_eq!(ok.allowed_by(&allowed).unwrap(), ok);
        let e = Scopes::parse("openid phone").unwrap().allowed_by(&allowed).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        assert_eq!(e.description, "scope phone is not allowed for this client");
    }

    #[test]
    fn serialises_as_one_string() {
        let s = Scopes::from_tokens(["openid", "email", "openid"]);
        assert_eq!(serde_json::to_value(&s).unwrap(), "openid email");
    }
}
