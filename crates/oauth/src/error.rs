//! The wire error codes of OAuth 2.0 and OpenID Connect, and the error value this crate returns.
//!
//! Every code is the exact string of its specification; the doc comment of each variant quotes
//! the sentence that defines it. Mapping a code to an HTTP response (a redirect, §5.2 JSON, a
//! `WWW-Authenticate` header) is the server's job, done in one place.

use serde::{Serialize, Serializer};

/// An `error` value from RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6,
/// RFC 6750 §3.1, RFC 7009 §2.2.1 and RFC 8707 §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §4.1.2.1, §5.2: "The request is missing a required parameter, includes an
    /// invalid parameter value, includes a parameter more than once, or is otherwise malformed."
    InvalidRequest,
    /// RFC 6749 §4.1.2.1: "The client is not authorized to request an authorization code using
    /// this method." §5.2: "The authenticated client is not authorized to use this authorization
    /// grant type."
    UnauthorizedClient,
    /// RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the request."
    AccessDenied,
    /// RFC 6749 §4.1.2.1: "The authorization server does not support obtaining an authorization
    /// code using this method."
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: "The requested scope is invalid, unknown, or malformed." §5.2: "… or
    /// exceeds the scope granted by the resource owner."
    InvalidScope,
    /// RFC 6749 §4.1.2.1: "The authorization server encountered an unexpected condition that
    /// prevented it from fulfilling the request."
    ServerError,
    /// RFC 6749 §4.1.2.1: "The authorization server is currently unable to handle the request
    /// due to a temporary overloading or maintenance of the server."
    TemporarilyUnavailable,
    /// RFC 6749 §5.2: "Client authentication failed (e.g., unknown client, no client
    /// authentication included, or unsupported authentication method)."
    InvalidClient,
    /// RFC 6749 §5.2: "The provided authorization grant (e.g., authorization code, resource owner
    /// credentials) or refresh token is invalid, expired, revoked, does not match the redirection
    /// URI used in the authorization request, or was issued to another client."
    InvalidGrant,
    /// RFC 6749 §5.2: "The authorization grant type is not supported by the authorization
    /// server."
    UnsupportedGrantType,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User interaction of some form
    /// to proceed."
    InteractionRequired,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User authentication."
    LoginRequired,
    /// OIDC Core §3.1.2.6: "The End-User is REQUIRED to select a session at the Authorization
    /// Server."
    AccountSelectionRequired,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User consent."
    ConsentRequired,
    /// OIDC Core §3.1.2.6: "The request_uri in the Authorization Request returns an error or
    /// contains invalid data."
    InvalidRequestUri,
    /// OIDC Core §3.1.2.6: "The request parameter contains an invalid Request Object."
    InvalidRequestObject,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the request parameter defined in
    /// Section 6."
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the request_uri parameter defined in
    /// Section 6."
    RequestUriNotSupported,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the registration parameter defined in
    /// Section 7.2.1."
    RegistrationNotSupported,
    /// RFC 6750 §3.1: "The access token provided is expired, revoked, malformed, or invalid for
    /// other reasons."
    InvalidToken,
    /// RFC 6750 §3.1: "The request requires higher privileges than provided by the access
    /// token."
    InsufficientScope,
    /// RFC 7009 §2.2.1: "The authorization server does not support the revocation of the
    /// presented token type."
    UnsupportedTokenType,
    /// RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed."
    InvalidTarget,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 23] = [
        Self::InvalidRequest,
        Self::UnauthorizedClient,
        Self::AccessDenied,
        Self::UnsupportedResponseType,
        Self::InvalidScope,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnsupportedGrantType,
        Self::InteractionRequired,
        Self::LoginRequired,
        Self::AccountSelectionRequired,
        Self::ConsentRequired,
        Self::InvalidRequestUri,
        Self::InvalidRequestObject,
        Self::RequestNotSupported,
        Self::RequestUriNotSupported,
        Self::RegistrationNotSupported,
        Self::InvalidToken,
        Self::InsufficientScope,
        Self::UnsupportedTokenType,
        Self::InvalidTarget,
    ];

    /// The exact wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InteractionRequired => "interaction_required",
            Self::LoginRequired => "login_required",
            Self::AccountSelectionRequired => "account_selection_required",
            Self::ConsentRequired => "consent_required",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::RegistrationNotSupported => "registration_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidTarget => "invalid_target",
        }
    }

    /// The code for a wire string, if it is one of ours.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A protocol error: a code and a human-readable description for the client developer
/// (RFC 6749 §5.2 `error_description`: ASCII, no `"` or `\`). Serialises as the §5.2 JSON body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    #[serde(rename = "error")]
    pub code: ErrorCode,
    #[serde(rename = "error_description")]
    pub description: String,
}

impl OAuthError {
    /// RFC 6749 §5.2: `error_description` "MUST NOT include characters outside the set
    /// %x20-21 / %x23-5B / %x5D-7E"; any other character (it may echo a request value) becomes
    /// `?`.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let mut description = description.into();
        if !description.bytes().all(is_description_char) {
            description = description
                .chars()
                .map(|c| match u8::try_from(c) {
                    Ok(b) if is_description_char(b) => c,
                    _ => '?',
                })
                .collect();
        }
        Self { code, description }
    }
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, description)
    }
    pub fn login_required(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::LoginRequired, description)
    }
    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::AccessDenied, description)
    }
    pub fn server_error(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServerError, description)
    }
}

fn is_description_char(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::core::{CoreAuthErrorResponseType, CoreErrorResponseType};
    use openidconnect::{RevocationErrorResponseType, core::CoreRegisterErrorResponseType};

    fn wire<T: serde::Serialize>(t: &T) -> String {
        serde_json::to_value(t).unwrap().as_str().unwrap().to_owned()
    }

    fn assert_round_trip(s: &str) {
        let code = ErrorCode::parse(s).unwrap_or_else(|| panic!("{s} is not an ErrorCode"));
        assert_eq!(code.as_str(), s);
        assert_eq!(wire(&code), s);
    }

    #[test]
    fn every_authorization_error_of_openidconnect_round_trips() {
        use CoreAuthErrorResponseType as A;
        let all = [
            A::AccessDenied,
            A::AccountSelectionRequired,
            A::ConsentRequired,
            A::InteractionRequired,
            A::InvalidRequest,
            A::InvalidRequestObject,
            A::InvalidRequestUri,
            A::InvalidScope,
            A::LoginRequired,
            A::RegistrationNotSupported,
            A::RequestNotSupported,
            A::RequestUriNotSupported,
            A::ServerError,
            A::TemporarilyUnavailable,
            A::UnauthorizedClient,
            A::UnsupportedResponseType,
        ];
        for e in &all {
            assert_round_trip(&wire(e));
        }
    }

    #[test]
    fn every_token_and_revocation_error_of_openidconnect_round_trips() {
        use CoreErrorResponseType as T;
        let all = [
            T::InvalidClient,
            T::InvalidGrant,
            T::InvalidRequest,
            T::InvalidScope,
            T::UnauthorizedClient,
            T::UnsupportedGrantType,
        ];
        for e in &all {
            assert_round_trip(&wire(e));
        }
        assert_round_trip(&wire(&RevocationErrorResponseType::UnsupportedTokenType));
    }

    #[test]
    fn our_codes_are_known_to_openidconnect_where_it_has_an_enum() {
        // The reverse direction: parsing our string must not fall into `Extension`.
        let bearer_only = [ErrorCode::InvalidToken, ErrorCode::InsufficientScope, ErrorCode::InvalidTarget];
        for code in ErrorCode::ALL {
            let s = serde_json::Value::String(code.as_str().to_owned());
            let auth: CoreAuthErrorResponseType = serde_json::from_value(s.clone()).unwrap();
            let token: CoreErrorResponseType = serde_json::from_value(s.clone()).unwrap();
            let revoke: RevocationErrorResponseType = serde_json::from_value(s).unwrap();
            let known = !matches!(auth, CoreAuthErrorResponseType::Extension(_))
                || !matches!(token, CoreErrorResponseType::Extension(_))
                || matches!(revoke, RevocationErrorResponseType::UnsupportedTokenType);
            assert!(known || bearer_only.contains(&code), "{code} unknown to openidconnect");
        }
        // RFC 6750 §3.1 codes have no openidconnect enum: pin their strings here.
        assert_eq!(ErrorCode::InvalidToken.as_str(), "invalid_token");
        assert_eq!(ErrorCode::InsufficientScope.as_str(), "insufficient_scope");
        // RFC 8707 §2 has no openidconnect enum either.
        assert_eq!(ErrorCode::InvalidTarget.as_str(), "invalid_target");
        // Registration errors are a different endpoint, not part of this enum.
        let reg = wire(&CoreRegisterErrorResponseType::InvalidRedirectUri);
        assert!(ErrorCode::parse(&reg).is_none());
    }

    #[test]
    fn error_serialises_as_rfc6749_section_5_2_body() {
        let e = OAuthError::invalid_grant("code expired");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": "invalid_grant", "error_description": "code expired"})
        );
        assert_eq!(e.to_string(), "invalid_grant: code expired");
    }

    #[test]
    fn description_is_kept_within_the_rfc6749_section_5_2_charset() {
        let e = OAuthError::invalid_request("unknown prompt value \"x\\y\" é\n");
        assert_eq!(e.description, "unknown prompt value ?x?y? ??");
    }
}
