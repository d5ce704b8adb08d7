//! What can go wrong on the way to and back from an upstream provider. Each variant has a
//! title and a message for the citizen's page; the details go to the log.

/// A failed upstream sign-in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    /// The provider's name is not an enabled provider.
    #[error("unknown provider {0}")]
    UnknownProvider(String),
    /// The citizen said no upstream (RFC 6749 §4.1.2.1 `access_denied`).
    #[error("cancelled by the user upstream")]
    Cancelled,
    /// The provider answered with an error (RFC 6749 §4.1.2.1 / §5.2) or nonsense.
    #[error("upstream error: {0}")]
    Upstream(String),
    /// The callback's `state` names no pending flow, or a flow of another browser or provider
    /// (RFC 6749 §10.12).
    #[error("unknown or reused state")]
    BadState,
    /// The pending flow outlived its time.
    #[error("the sign-in took too long")]
    Expired,
    /// The ID token failed validation (OIDC Core §3.1.3.7).
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
    /// The provider could not be reached, or did not answer in time.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
}

impl FederationError {
    /// The page's heading.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Cancelled => "Sign-in cancelled",
            Self::Expired | Self::BadState => "This sign-in link has expired",
            Self::Unreachable(_) => "We could not reach the provider",
            _ => "We could not sign you in",
        }
    }

    /// What the citizen reads; never upstream details.
    pub fn message(&self, label: &str) -> String {
        match self {
            Self::UnknownProvider(_) => "That sign-in option is not available.".into(),
            Self::Cancelled => {
                format!("You cancelled signing in with {label}. You can choose another way to sign in.")
            }
            Self::Upstream(_) => format!("{label} could not sign you in. Please try again."),
            Self::BadState => {
                "This sign-in was already used or was started in another browser. Please start again.".into()
            }
            Self::Expired => "Signing in took too long. Please start again.".into(),
            Self::InvalidIdToken(_) => format!("{label} sent an answer we cannot trust. Please try again."),
            Self::Unreachable(_) => {
                format!("{label} did not answer. Please try again in a moment, or sign in another way.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_never_show_upstream_details() {
        let e = FederationError::Upstream("server_error: stack trace at line 7".into());
        assert!(!e.message("Google").contains("stack"));
        assert!(e.message("Google").contains("Google"));
        assert_eq!(FederationError::Cancelled.title(), "Sign-in cancelled");
    }
}
