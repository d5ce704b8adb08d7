//! Opaque secrets: 256 bits from the system RNG, shown once as base64url, stored as SHA-256.
//!
//! A fast hash is right here (DESIGN.md, "Secrets at rest"): the secret has full entropy, so
//! nothing is gained by a slow hash and machine clients would be capped by one.

use aws_lc_rs::{digest, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A freshly generated secret. Its `Debug` never prints the value.
pub struct OpaqueToken(String);

impl OpaqueToken {
    /// 32 random bytes, base64url without padding (43 characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        // The system RNG failing is not recoverable; aws-lc aborts internally on RNG failure too.
        #[expect(clippy::expect_used, reason = "the OS random source does not fail in practice")]
        rand::fill(&mut bytes).expect("system random number generator");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret as handed to its holder (cookie, code, client secret).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpaqueToken(..)")
    }
}

/// The SHA-256 of a secret, lower-case hex: what the database keeps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes a presented secret for look-up.
    pub fn of(secret: &str) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let d = digest::digest(&digest::SHA256, secret.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in d.as_ref() {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Self(hex)
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, for secrets checked against one stored hash (client secrets).
    pub fn matches(&self, secret: &str) -> bool {
        let other = Self::of(secret);
        aws_lc_rs::constant_time::verify_slices_are_equal(self.0.as_bytes(), other.0.as_bytes()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_43_chars_and_distinct() {
        let a = OpaqueToken::generate();
        let b = OpaqueToken::generate();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn hash_is_lower_case_hex_sha256() {
        // FIPS 180-2 Appendix B.1.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(TokenHash::of("abc").as_str(), expected);
    }

    #[test]
    fn hash_matches_only_its_secret() {
        let t = OpaqueToken::generate();
        let h = t.hash();
        assert!(h.matches(t.expose()));
        assert!(!h.matches("something else"));
        assert_eq!(h.as_str().len(), 64);
        assert_eq!(format!("{t:?}"), "OpaqueToken(..)");
    }
}
