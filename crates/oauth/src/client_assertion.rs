//! Client authentication with a JWT assertion (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OIDC Core
//! §9): `private_key_jwt` (signed with the client's own key) and `client_secret_jwt` (HMAC keyed
//! with its secret). The signature is checked by `tokens::assertion`; the claims are checked
//! here, against the caller's clock. The `jti` is single use: the caller records it with
//! [`crate::AssertionReplayStore`] after these checks pass.

use tokens::ClientJwks;
use tokens::assertion::{self, AssertionKeyError};

use crate::store::Client;

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT bearer assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew allowed on `exp`, `nbf` and `iat` (RFC 7523 §3 items 4–6 allow "some small
/// leeway").
pub const LEEWAY_SECS: i64 = 60;

/// The longest an assertion may still be valid when it arrives: RFC 7523 §3 item 7 lets the
/// server limit how far `exp` lies ahead, so the `jti`s it must remember stay few. An
/// assertion is meant for one request, made just before it.
pub const MAX_LIFETIME_SECS: i64 = 300;

/// The longest `jti` remembered; longer ones are refused rather than truncated.
pub const MAX_JTI_LEN: usize = 256;

/// What the assertion's signature is checked with, chosen by the client's registered method.
pub enum AssertionKey<'a> {
    /// `private_key_jwt`: the client's JWKS (registered by value or fetched from `jwks_uri`).
    Jwks(&'a ClientJwks),
    /// `client_secret_jwt`: the octets of the client secret.
    Secret(&'a [u8]),
}

/// An assertion that passed every check: its `jti`, to be recorded until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub expires_at: i64,
}

/// Why an assertion was refused. Every variant is `invalid_client` on the wire (RFC 7521
/// §4.2.1); the variant is for the log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// The client is not registered for a JWT method, or the key kind does not fit its method.
    #[error("client is not registered for this authentication method")]
    WrongMethod,
    #[error(transparent)]
    Key(#[from] AssertionKeyError),
    #[error("iss is not the client_id")]
    Issuer,
    #[error("sub is not the client_id")]
    Subject,
    #[error("aud does not name this authorization server")]
    Audience,
    #[error("exp is missing")]
    NoExpiry,
    #[error("assertion has expired")]
    Expired,
    #[error("exp lies further ahead than the lifetime limit")]
    TooLong,
    #[error("assertion is not valid yet (nbf or iat in the future)")]
    NotYetValid,
    #[error("jti is missing or too long")]
    NoJti,
    #[error("assertion was used before")]
    Replayed,
}

/// The JWT method a client is registered with, if any.
pub fn is_jwt_method(client: &Client) -> bool {
    matches!(client.token_endpoint_auth_method.as_str(), "private_key_jwt" | "client_secret_jwt")
}

/// Checks `assertion` for `client`: the key fits the client's method, the signature, then the
/// claims of RFC 7523 §3. `audiences` are the values that identify this server (the issuer,
/// the token endpoint URL, the URL of the endpoint the request came to).
pub fn verify(
    assertion: &str,
    client: &Client,
    key: AssertionKey<'_>,
    audiences: &[&str],
    now: i64,
) -> Result<VerifiedAssertion, AssertionError> {
    // A client may use only the method it is registered with (OIDC Dynamic Registration §2).
    let claims = match (client.token_endpoint_auth_method.as_str(), key) {
        ("private_key_jwt", AssertionKey::Jwks(jwks)) => assertion::verify_with_jwks(assertion, jwks)?,
        ("client_secret_jwt", AssertionKey::Secret(secret)) => {
            assertion::verify_with_secret(assertion, secret)?
        }
        _ => return Err(AssertionError::WrongMethod),
    };
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    let time = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
    let id = client.id.as_str();
    // RFC 7523 §3 item 1 and OIDC Core §9: iss and sub are both the client_id.
    if text("iss") != Some(id) {
        return Err(AssertionError::Issuer);
    }
    if text("sub") != Some(id) {
        return Err(AssertionError::Subject);
    }
    // Item 3: aud "MUST" identify the authorization server; a string or an array of them.
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => audiences.contains(&a.as_str()),
        Some(serde_json::Value::Array(list)) => {
            list.iter().filter_map(serde_json::Value::as_str).any(|a| audiences.contains(&a))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(AssertionError::Audience);
    }
    // Item 4: exp is required and the assertion is refused once it has passed.
    let exp = time("exp").ok_or(AssertionError::NoExpiry)?;
    if now > exp + LEEWAY_SECS {
        return Err(AssertionError::Expired);
    }
    if exp > now + MAX_LIFETIME_SECS + LEEWAY_SECS {
        return Err(AssertionError::TooLong);
    }
    // Items 5 and 6: not before nbf; an iat in the future is not sane either.
    for name in ["nbf", "iat"] {
        match claims.get(name) {
            None => {}
            Some(v) => match v.as_i64() {
                Some(t) if t <= now + LEEWAY_SECS => {}
                _ => return Err(AssertionError::NotYetValid),
            },
        }
    }
    // Item 7 and OIDC Core §9: jti is required, and the server keeps it to refuse a replay.
    let jti = text("jti").filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN).ok_or(AssertionError::NoJti)?;
    // Remembered as long as the assertion could pass the expiry check above.
    Ok(VerifiedAssertion { jti: jti.to_owned(), expires_at: exp + LEEWAY_SECS })
}

#[cfg(test)]
#[path = "client_assertion_tests.rs"]
mod tests;
