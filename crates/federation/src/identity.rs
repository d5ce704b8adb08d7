//! What a successful upstream sign-in yields.

/// RFC 8176 has no value for "signed in at another provider"; `fed` is gatehouse's, and the
/// ID token's `idp` names the provider.
pub const AMR_FEDERATED: &str = "fed";

/// At most this many of the upstream's `amr` values are passed on.
const MAX_UPSTREAM_AMR: usize = 8;
/// Longer values are dropped: RFC 8176's are a few characters; no legitimate one is this long.
const MAX_AMR_LEN: usize = 64;

/// A person as an upstream provider vouches for them, after the ID token was validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The provider's name in gatehouse (`google`, `microsoft`, a generic provider's name).
    pub provider: String,
    /// The provider's `sub`: stable and unique per provider (OIDC Core §2), unlike the email.
    pub subject: String,
    /// Lower-cased as the provider sent it; only trusted when `email_verified`.
    pub email: Option<String>,
    /// Whether the provider said `email_verified: true`. Absent is false.
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The upstream ID token's `amr` (OIDC Core §2, RFC 8176 values), as sent; empty when it
    /// had none (Facebook has no ID token at all).
    pub upstream_amr: Vec<String>,
}

impl ExternalIdentity {
    /// The `amr` of the session this sign-in starts: gatehouse's own `fed` first, then the
    /// upstream's values in their order, so a portal sees both that the citizen came through a
    /// provider and how that provider authenticated them (`["fed", "pwd", "mfa"]`).
    ///
    /// The rule: duplicates (exact, case-sensitive as RFC 8176 §1 compares) are kept once; a
    /// value is passed on only when it is 1–64 printable ASCII characters without spaces (an
    /// `amr` value is a JSON string, but a portal may show or log it), and at most eight
    /// upstream values are kept.
    pub fn session_amr(&self) -> Vec<String> {
        let mut amr = vec![AMR_FEDERATED.to_owned()];
        let valid =
            |v: &&String| !v.is_empty() && v.len() <= MAX_AMR_LEN && v.bytes().all(|b| b.is_ascii_graphic());
        for value in self.upstream_amr.iter().filter(valid) {
            if amr.len() > MAX_UPSTREAM_AMR {
                break;
            }
            if !amr.contains(value) {
                amr.push(value.clone());
            }
        }
        amr
    }

    /// The email, only when the provider marked it verified.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// The query string of a callback (RFC 6749 §4.1.2 and §4.1.2.1), or Apple's form post.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// RFC 9207: the issuer that sent the response, when the provider says.
    pub iss: Option<String>,
    /// Apple's `user` form field (JSON with the name), on the first authorization only.
    pub user: Option<String>,
}

impl Callback {
    /// The code, or why there is none: `access_denied` is the citizen saying no.
    pub fn code(&self) -> Result<&str, crate::FederationError> {
        use crate::FederationError;
        match (&self.error, &self.code) {
            // Apple says `user_cancelled_authorize` ("Handle the response", error codes).
            (Some(e), _) if e == "access_denied" || e == "user_cancelled_authorize" => {
                Err(FederationError::Cancelled)
            }
            (Some(e), _) => Err(FederationError::Upstream(format!(
                "{e}: {}",
                self.error_description.as_deref().unwrap_or("")
            ))),
            (None, Some(code)) if !code.is_empty() => Ok(code),
            (None, _) => Err(FederationError::Upstream("callback without code".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FederationError;

    fn cb(code: Option<&str>, error: Option<&str>) -> Callback {
        Callback {
            code: code.map(Into::into),
            state: Some("s".into()),
            error: error.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn access_denied_is_a_cancel_and_other_errors_are_upstream() {
        assert_eq!(cb(None, Some("access_denied")).code(), Err(FederationError::Cancelled));
        assert!(matches!(cb(Some("c"), Some("server_error")).code(), Err(FederationError::Upstream(_))));
        assert!(matches!(cb(None, None).code(), Err(FederationError::Upstream(_))));
        assert_eq!(cb(Some("abc"), None).code(), Ok("abc"));
    }

    #[test]
    fn only_a_verified_email_is_offered() {
        let mut id = ExternalIdentity {
            provider: "google".into(),
            subject: "1".into(),
            email: Some("a@x.org".into()),
            email_verified: false,
            name: None,
            given_name: None,
            family_name: None,
            upstream_amr: vec![],
        };
        assert_eq!(id.verified_email(), None);
        id.email_verified = true;
        assert_eq!(id.verified_email(), Some("a@x.org"));
    }

    #[test]
    fn the_session_amr_is_fed_then_the_upstreams_values_once_each() {
        let with = |amr: &[&str]| ExternalIdentity {
            provider: "google".into(),
            subject: "1".into(),
            email: None,
            email_verified: false,
            name: None,
            given_name: None,
            family_name: None,
            upstream_amr: amr.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert_eq!(with(&[]).session_amr(), ["fed"]);
        assert_eq!(with(&["pwd", "mfa", "otp"]).session_amr(), ["fed", "pwd", "mfa", "otp"]);
        // Duplicates, and the upstream's own "fed", appear once; case is significant.
        assert_eq!(with(&["pwd", "fed", "pwd", "PWD"]).session_amr(), ["fed", "pwd", "PWD"]);
        // Empty, spaced, control, non-ASCII and overlong values are not passed on.
        let long = "x".repeat(65);
        assert_eq!(with(&["", "a b", "a\nb", "é", &long, "hwk"]).session_amr(), ["fed", "hwk"]);
        // At most eight upstream values.
        let many: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let amr = with(&many).session_amr();
        assert_eq!(amr.len(), 9);
        assert_eq!((amr[0].as_str(), amr[8].as_str()), ("fed", "m7"));
    }
}
