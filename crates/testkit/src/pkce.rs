//! PKCE (RFC 7636) values for a test relying party.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A fresh `(code_verifier, code_challenge)` pair for `code_challenge_method=S256`.
///
/// The verifier is 32 random bytes in base64url (43 characters), as RFC 7636 §4.1 recommends.
pub fn pair() -> (String, String) {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).unwrap_or_else(|_| panic!("the system RNG failed"));
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = challenge(&verifier);
    (verifier, challenge)
}

/// The S256 challenge of `verifier`: `BASE64URL(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn pair_is_fresh_and_consistent() {
        let (v1, c1) = pair();
        let (v2, _) = pair();
        assert_eq!(v1.len(), 43);
        assert_ne!(v1, v2);
        assert_eq!(challenge(&v1), c1);
    }
}
