//! Proof Key for Code Exchange (RFC 7636), S256 only.
//!
//! `plain` is refused (RFC 9700 §2.1.1: "use PKCE code challenge methods that do not expose the
//! PKCE verifier in the authorization request"), and so is a missing method, because RFC 7636
//! §4.3 makes `plain` the default when `code_challenge_method` is absent.

use aws_lc_rs::{constant_time, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::OAuthError;

/// The only method accepted.
pub const S256: &str = "S256";

/// Checks the `code_challenge` and `code_challenge_method` of an authorization request.
pub fn validate_challenge(challenge: &str, method: Option<&str>) -> Result<(), OAuthError> {
    match method {
        Some(S256) => {}
        Some("plain") => {
            return Err(OAuthError::invalid_request("code_challenge_method plain is not allowed: use S256"));
        }
        // RFC 7636 §4.3: absent means plain.
        None => {
            return Err(OAuthError::invalid_request("code_challenge_method is required and must be S256"));
        }
        Some(_) => {
            return Err(OAuthError::invalid_request("unsupported code_challenge_method: use S256"));
        }
    }
    // RFC 7636 §4.2: S256 gives BASE64URL(SHA256(..)) of 32 bytes, which is 43 characters.
    if challenge.len() != 43 || !challenge.bytes().all(is_base64url) {
        return Err(OAuthError::invalid_request("code_challenge must be 43 base64url characters (S256)"));
    }
    Ok(())
}

/// Whether `verifier` proves possession for an S256 `challenge` (RFC 7636 §4.6), comparing in
/// constant time. A malformed verifier (RFC 7636 §4.1: 43–128 unreserved characters) fails.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(is_unreserved) {
        return false;
    }
    let hash = digest::digest(&digest::SHA256, verifier.as_bytes());
    let computed = URL_SAFE_NO_PAD.encode(hash.as_ref());
    constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok()
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// RFC 7636 §4.1: `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(b: u8) -> bool {
    is_base64url(b) || b == b'.' || b == b'~'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector_verifies() {
        assert!(verify(VERIFIER, CHALLENGE));
        assert!(validate_challenge(CHALLENGE, Some("S256")).is_ok());
    }

    #[test]
    fn wrong_verifier_fails() {
        let mut other = VERIFIER.to_owned();
        other.replace_range(0..1, "e");
        assert!(!verify(&other, CHALLENGE));
        // Sending the challenge itself as the verifier (a plain downgrade) fails.
        assert!(!verify(CHALLENGE, CHALLENGE));
    }

    #[test]
    fn malformed_verifiers_fail_even_if_they_would_hash_right() {
        let short = &VERIFIER[..42];
        let short_challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, short.as_bytes()).as_ref());
        assert!(!verify(short, &short_challenge));
        let long = "a".repeat(129);
        let long_challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, long.as_bytes()).as_ref());
        assert!(!verify(&long, &long_challenge));
        let ok_128 = "a".repeat(128);
        let ok_challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, ok_128.as_bytes()).as_ref());
        assert!(verify(&ok_128, &ok_challenge));
        let bad_char = format!("{}+", &VERIFIER[..43]);
        let bad_challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, bad_char.as_bytes()).as_ref());
        assert!(!verify(&bad_char, &bad_challenge));
    }

    #[test]
    fn plain_or_missing_or_unknown_method_is_invalid_request() {
        for m in [None, Some("plain"), Some("s256"), Some("S512")] {
            let e = validate_challenge(CHALLENGE, m).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{m:?}");
        }
    }

    #[test]
    fn challenge_must_be_43_base64url_chars() {
        for bad in [&CHALLENGE[..42], &format!("{CHALLENGE}A"), &format!("{}=", &CHALLENGE[..42])] {
            assert!(validate_challenge(bad, Some("S256")).is_err(), "{bad}");
        }
        let plus = CHALLENGE.replace('-', "+");
        assert!(validate_challenge(&plus, Some("S256")).is_err());
    }
}
