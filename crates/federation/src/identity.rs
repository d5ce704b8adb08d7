//! What a successful upstream sign-in yields.

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
}

impl ExternalIdentity {
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
        };
        assert_eq!(id.verified_email(), None);
        id.email_verified = true;
        assert_eq!(id.verified_email(), Some("a@x.org"));
    }
}
