//! Client authentication at the token endpoint (RFC 6749 §2.3, OpenID Connect Core §9):
//! `client_secret_basic`, `client_secret_post` and `none` (public clients, with PKCE); which
//! method a request uses, including the JWT assertions of `private_key_jwt` and
//! `client_secret_jwt` (RFC 7523 §2.2), whose checks are in [`crate::client_assertion`].

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::client_assertion::ASSERTION_TYPE;
use crate::error::OAuthError;
use crate::store::Client;

/// The credentials a token request carried.
#[derive(Clone, PartialEq, Eq)]
pub enum PresentedCredentials {
    /// `Authorization: Basic` (RFC 6749 §2.3.1, `client_secret_basic`).
    Basic { client_id: String, secret: String },
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    Post { client_id: String, secret: String },
    /// Only `client_id` in the body: a public client (RFC 6749 §2.1; OIDC Core §9 `none`).
    None { client_id: String },
    /// `client_assertion` of type [`ASSERTION_TYPE`] (RFC 7523 §2.2): `private_key_jwt` or
    /// `client_secret_jwt`. `client_id` is the body's, or else the assertion's unverified `sub`:
    /// only a name to look the client up by until the assertion is verified.
    Assertion { client_id: String, assertion: String },
}

/// The client authentication parameters of a request body.
#[derive(Clone, Copy, Debug, Default)]
pub struct BodyCredentials<'a> {
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub client_assertion_type: Option<&'a str>,
    pub client_assertion: Option<&'a str>,
}

impl PresentedCredentials {
    /// Picks the method from the request's parts: the `Authorization` header value (if any) and
    /// the body's `client_id` and `client_secret`. `Ok(None)` when the request names no client.
    ///
    /// RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each
    /// request" — a Basic header together with a body secret is `invalid_request`, and so is a
    /// body `client_id` that differs from the header's. A header that is not valid Basic
    /// credentials is `invalid_client` (answer it with 401, RFC 6749 §5.2).
    pub fn from_parts(
        authorization: Option<&str>,
        client_id: Option<&str>,
        client_secret: Option<&str>,
    ) -> Result<Option<Self>, OAuthError> {
        let client_id = client_id.filter(|s| !s.is_empty());
        let client_secret = client_secret.filter(|s| !s.is_empty());
        if let Some(header) = authorization {
            let (id, secret) = parse_basic(header)
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            if client_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: Basic or client_secret, not both",
                ));
            }
            if client_id.is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request("client_id does not match the Authorization header"));
            }
            return Ok(Some(Self::Basic { client_id: id, secret }));
        }
        Ok(match (client_id, client_secret) {
            (Some(id), Some(secret)) => {
                Some(Self::Post { client_id: id.to_owned(), secret: secret.to_owned() })
            }
            (Some(id), None) => Some(Self::None { client_id: id.to_owned() }),
            (None, _) => None,
        })
    }

    /// Like [`from_parts`](Self::from_parts), with the assertion parameters too. RFC 6749 §2.3:
    /// an assertion together with a Basic header or a client_secret is `invalid_request`; so is
    /// half an assertion. An assertion of another type, or one that names no client, is
    /// `invalid_client` (RFC 7521 §4.2.1).
    pub fn from_request(
        authorization: Option<&str>,
        body: BodyCredentials<'_>,
    ) -> Result<Option<Self>, OAuthError> {
        let (kind, assertion) = (present(body.client_assertion_type), present(body.client_assertion));
        if kind.is_none() && assertion.is_none() {
            return Self::from_parts(authorization, body.client_id, body.client_secret);
        }
        if authorization.is_some() || present(body.client_secret).is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: a client_assertion, Basic or client_secret, not two",
            ));
        }
        let (Some(kind), Some(assertion)) = (kind, assertion) else {
            return Err(OAuthError::invalid_request(
                "client_assertion and client_assertion_type go together",
            ));
        };
        if kind != ASSERTION_TYPE {
            return Err(OAuthError::invalid_client(format!(
                "client_assertion_type must be {ASSERTION_TYPE}"
            )));
        }
        // An empty `sub` names no client (found by the client_assertion fuzz target).
        let sub = tokens::assertion::unverified_claims(assertion)
            .and_then(|c| c.get("sub").and_then(|s| s.as_str()).filter(|s| !s.is_empty()).map(str::to_owned));
        let client_id = match (present(body.client_id), sub) {
            // RFC 7521 §4.2: a client_id sent along must name the same client as the assertion.
            (Some(id), Some(sub)) if id != sub => {
                return Err(OAuthError::invalid_client("client_id does not match the assertion's sub"));
            }
            (Some(id), _) => id.to_owned(),
            (None, Some(sub)) => sub,
            (None, None) => return Err(OAuthError::invalid_client("the client_assertion names no client")),
        };
        Ok(Some(Self::Assertion { client_id, assertion: assertion.to_owned() }))
    }

    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id }
            | Self::Assertion { client_id, .. } => client_id,
        }
    }

    pub fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }
}

/// Never prints a secret.
impl std::fmt::Debug for PresentedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let method = match self {
            Self::Basic { .. } => "Basic",
            Self::Post { .. } => "Post",
            Self::None { .. } => "None",
            Self::Assertion { .. } => "Assertion",
        };
        write!(f, "{method} {{ client_id: {:?}, .. }}", self.client_id())
    }
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// Parses an `Authorization: Basic …` value into (client_id, secret). RFC 6749 §2.3.1: both are
/// form-urlencoded (Appendix B) before being joined with `:` and base64-encoded (RFC 7617).
pub fn parse_basic(header_value: &str) -> Option<(String, String)> {
    let (scheme, rest) = header_value.trim().split_once(' ')?;
    // RFC 7235 §2.1: the auth-scheme is case-insensitive.
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let rest = rest.trim();
    let raw = STANDARD.decode(rest).or_else(|_| STANDARD_NO_PAD.decode(rest)).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let id = form_urldecode(id)?;
    if id.is_empty() {
        return None;
    }
    Some((id, form_urldecode(secret)?))
}

/// application/x-www-form-urlencoded decoding of one value: `+` is a space, `%XX` a byte; the
/// result must be UTF-8. A `%` not followed by two hex digits is kept as is (WHATWG URL §5.1).
fn form_urldecode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (b.get(i + 1).and_then(hex), b.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(c: &u8) -> Option<u8> {
    char::from(*c).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Client authentication failed. The server answers `invalid_client`, with 401 and
/// `WWW-Authenticate: Basic` when the client used the Authorization header (RFC 6749 §5.2).
/// Deliberately says nothing about which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("client authentication failed")]
pub struct ClientAuthError {
    pub used_basic: bool,
}

impl ClientAuthError {
    pub fn to_oauth(&self) -> OAuthError {
        OAuthError::invalid_client("client authentication failed")
    }
}

/// Checks the presented secret credentials against `client`, the store's answer for
/// `presented.client_id()` (`None` if unknown). An assertion never passes here: it is checked
/// with the client's keys by [`crate::client_assertion::verify`].
pub fn authenticate<'a>(
    presented: &PresentedCredentials,
    client: Option<&'a Client>,
) -> Result<&'a Client, ClientAuthError> {
    let fail = ClientAuthError { used_basic: presented.used_basic() };
    let client = client.filter(|c| c.id.as_str() == presented.client_id()).ok_or(fail)?;
    let confidential =
        matches!(client.token_endpoint_auth_method.as_str(), "client_secret_basic" | "client_secret_post");
    match (presented, confidential, &client.secret_hash) {
        // RFC 6749 §2.3.1: the server "MUST support the HTTP Basic authentication scheme for
        // authenticating clients that were issued a client password" and MAY support the body
        // parameters: a confidential client may use either.
        (
            PresentedCredentials::Basic { secret, .. } | PresentedCredentials::Post { secret, .. },
            true,
            Some(hash),
        ) if hash.matches(secret) => Ok(client),
        // A public client presents no secret (RFC 6749 §2.1, OIDC Core §9 `none`); a client
        // that was issued a secret must use it.
        (PresentedCredentials::None { .. }, false, None) if client.token_endpoint_auth_method == "none" => {
            Ok(client)
        }
        _ => Err(fail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::testutil::{client, public_client};

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn parse_basic_form_urldecodes_both_parts() {
        assert_eq!(parse_basic(&basic("client-1", "s3cret")), Some(("client-1".into(), "s3cret".into())));
        assert_eq!(parse_basic(&basic("a%3Ab", "p%25+w%3Ad%C3%A9")), Some(("a:b".into(), "p% w:dé".into())));
        assert_eq!(parse_basic(&basic("id", "a:b")), Some(("id".into(), "a:b".into())));
        assert_eq!(parse_basic(&basic("id", "100%")), Some(("id".into(), "100%".into())));
        let lower = format!("basic {}", STANDARD.encode("id:x"));
        assert_eq!(parse_basic(&lower), Some(("id".into(), "x".into())));
    }

    #[test]
    fn parse_basic_rejects_malformed_values() {
        for bad in [
            "Bearer abc".to_owned(),
            "Basic".to_owned(),
            "Basic !!!".to_owned(),
            format!("Basic {}", STANDARD.encode("no-colon")),
            format!("Basic {}", STANDARD.encode(":secret")),
            format!("Basic {}", STANDARD.encode([0xff, b':', b'x'])),
            basic("id", "%ff"),
        ] {
            assert_eq!(parse_basic(&bad), None, "{bad}");
        }
    }

    #[test]
    fn confidential_client_authenticates_with_basic_or_post() {
        let c = client();
        let b = PresentedCredentials::Basic { client_id: "client-1".into(), secret: "s3cret".into() };
        let p = PresentedCredentials::Post { client_id: "client-1".into(), secret: "s3cret".into() };
        assert_eq!(authenticate(&b, Some(&c)).unwrap().id, c.id);
        assert_eq!(authenticate(&p, Some(&c)).unwrap().id, c.id);
    }

    #[test]
    fn wrong_secret_or_unknown_client_fails_and_remembers_basic() {
        let c = client();
        let b = PresentedCredentials::Basic { client_id: "client-1".into(), secret: "nope".into() };
        assert_eq!(authenticate(&b, Some(&c)), Err(ClientAuthError { used_basic: true }));
        let p = PresentedCredentials::Post { client_id: "client-1".into(), secret: "nope".into() };
        assert_eq!(authenticate(&p, Some(&c)), Err(ClientAuthError { used_basic: false }));
        let b = PresentedCredentials::Basic { client_id: "ghost".into(), secret: "s3cret".into() };
        assert_eq!(authenticate(&b, None), Err(ClientAuthError { used_basic: true }));
        // The store's answer must be the client that was named.
        assert!(authenticate(&b, Some(&c)).is_err());
        assert_eq!(ClientAuthError { used_basic: true }.to_oauth().code, ErrorCode::InvalidClient);
    }

    #[test]
    fn confidential_client_presenting_none_fails() {
        let n = PresentedCredentials::None { client_id: "client-1".into() };
        assert_eq!(authenticate(&n, Some(&client())), Err(ClientAuthError { used_basic: false }));
    }

    #[test]
    fn public_client_must_use_none() {
        let c = public_client();
        let n = PresentedCredentials::None { client_id: "native-1".into() };
        assert_eq!(authenticate(&n, Some(&c)).unwrap().id, c.id);
        let b = PresentedCredentials::Basic { client_id: "native-1".into(), secret: "".into() };
        assert!(authenticate(&b, Some(&c)).is_err());
        let p = PresentedCredentials::Post { client_id: "native-1".into(), secret: "x".into() };
        assert!(authenticate(&p, Some(&c)).is_err());
    }

    #[test]
    fn from_parts_picks_one_method() {
        let h = basic("client-1", "s3cret");
        let got = PresentedCredentials::from_parts(Some(&h), None, None).unwrap().unwrap();
        assert!(got.used_basic());
        assert!(PresentedCredentials::from_parts(Some(&h), Some("client-1"), None).is_ok());
        let e = PresentedCredentials::from_parts(Some(&h), Some("other"), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = PresentedCredentials::from_parts(Some(&h), None, Some("s3cret")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = PresentedCredentials::from_parts(Some("Bearer x"), None, None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
        assert_eq!(
            PresentedCredentials::from_parts(None, Some("c"), Some("s")).unwrap(),
            Some(PresentedCredentials::Post { client_id: "c".into(), secret: "s".into() })
        );
        assert_eq!(
            PresentedCredentials::from_parts(None, Some("c"), Some("")).unwrap(),
            Some(PresentedCredentials::None { client_id: "c".into() })
        );
        assert_eq!(PresentedCredentials::from_parts(None, None, Some("s")).unwrap(), None);
    }

    #[test]
    fn from_request_reads_an_assertion_and_refuses_mixed_methods() {
        let claims = STANDARD_NO_PAD.encode(r#"{"sub":"client-1"}"#).replace('+', "-").replace('/', "_");
        let jwt = format!("e30.{claims}.sig");
        let body = |id, secret, kind, assertion| BodyCredentials {
            client_id: id,
            client_secret: secret,
            client_assertion_type: kind,
            client_assertion: assertion,
        };
        let got =
            PresentedCredentials::from_request(None, body(None, None, Some(ASSERTION_TYPE), Some(&jwt)));
        assert_eq!(
            got.unwrap(),
            Some(PresentedCredentials::Assertion { client_id: "client-1".into(), assertion: jwt.clone() })
        );
        assert!(
            !PresentedCredentials::from_request(
                None,
                body(Some("client-1"), None, Some(ASSERTION_TYPE), Some(&jwt))
            )
            .unwrap()
            .unwrap()
            .used_basic()
        );
        // An assertion whose sub is empty, with no client_id beside it, names no client.
        let nobody = format!("e30.{}.sig", STANDARD_NO_PAD.encode(r#"{"iss":"client-!","sub":""}"#));
        let got =
            PresentedCredentials::from_request(None, body(None, None, Some(ASSERTION_TYPE), Some(&nobody)));
        assert_eq!(got.unwrap_err().code, ErrorCode::InvalidClient);
        let code = |auth: Option<&str>, b| PresentedCredentials::from_request(auth, b).unwrap_err().code;
        // RFC 6749 §2.3: one method per request.
        let h = basic("client-1", "s3cret");
        assert_eq!(
            code(Some(&h), body(None, None, Some(ASSERTION_TYPE), Some(&jwt))),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            code(None, body(None, Some("s"), Some(ASSERTION_TYPE), Some(&jwt))),
            ErrorCode::InvalidRequest
        );
        assert_eq!(code(None, body(None, None, None, Some(&jwt))), ErrorCode::InvalidRequest);
        assert_eq!(code(None, body(None, None, Some(ASSERTION_TYPE), None)), ErrorCode::InvalidRequest);
        assert_eq!(code(None, body(None, None, Some("urn:x"), Some(&jwt))), ErrorCode::InvalidClient);
        assert_eq!(
            code(None, body(Some("other"), None, Some(ASSERTION_TYPE), Some(&jwt))),
            ErrorCode::InvalidClient
        );
        assert_eq!(
            code(None, body(None, None, Some(ASSERTION_TYPE), Some("garbage"))),
            ErrorCode::InvalidClient
        );
        // Without assertion parameters it is from_parts.
        assert_eq!(
            PresentedCredentials::from_request(None, body(Some("c"), Some("s"), None, None)).unwrap(),
            Some(PresentedCredentials::Post { client_id: "c".into(), secret: "s".into() })
        );
    }

    #[test]
    fn an_assertion_never_passes_the_secret_check() {
        let a = PresentedCredentials::Assertion { client_id: "client-1".into(), assertion: "x.y.z".into() };
        assert!(authenticate(&a, Some(&client())).is_err());
        let jwt_client = Client { token_endpoint_auth_method: "client_secret_jwt".into(), ..client() };
        let b = PresentedCredentials::Basic { client_id: "client-1".into(), secret: "s3cret".into() };
        assert!(authenticate(&b, Some(&jwt_client)).is_err(), "a client_secret_jwt client may not use Basic");
    }

    #[test]
    fn debug_hides_the_secret() {
        let p = PresentedCredentials::Post { client_id: "c".into(), secret: "hunter2".into() };
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
