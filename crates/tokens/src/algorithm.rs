//! The JWS algorithms gatehouse signs with (RFC 7518 §3.1), and `at_hash`.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A JWS `alg`. RS256 is mandatory for OpenID providers (OIDC Core §15.1); ES256 is the cheap
/// default for access tokens (DESIGN.md, cost model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), 2048-bit keys.
    Rs256,
    /// ECDSA P-256 with SHA-256, signature as raw r ‖ s (RFC 7518 §3.4).
    Es256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Rs256, Algorithm::Es256];

    /// The exact JWS `alg` string.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    /// Exact, case-sensitive match: JWS `alg` values are case-sensitive (RFC 7515 §4.1.1).
    pub fn parse(s: &str) -> Option<Algorithm> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub(crate) fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
        }
    }

    pub(crate) fn from_jsonwebtoken(alg: jsonwebtoken::Algorithm) -> Option<Algorithm> {
        match alg {
            jsonwebtoken::Algorithm::RS256 => Some(Self::Rs256),
            jsonwebtoken::Algorithm::ES256 => Some(Self::Es256),
            _ => None,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::Rs256 | Self::Es256 => &digest::SHA256,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OIDC Core §3.1.3.6: hash the ASCII access token with the hash of the ID token's `alg`
/// (SHA-256 for RS256 and ES256), keep the left-most half, base64url without padding.
pub fn at_hash(access_token: &str, alg: Algorithm) -> String {
    let d = digest::digest(alg.digest(), access_token.as_bytes());
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_exactly() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::parse(alg.as_str()), Some(alg));
        }
        assert_eq!(Algorithm::Rs256.as_str(), "RS256");
        assert_eq!(Algorithm::Es256.as_str(), "ES256");
        assert_eq!(Algorithm::parse("rs256"), None);
        assert_eq!(Algorithm::parse("HS256"), None);
        assert_eq!(Algorithm::parse("none"), None);
    }

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OpenID Connect Core 1.0, Appendix A.3 (RS256).
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(at_hash(token, Algorithm::Rs256), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(at_hash(token, Algorithm::Es256), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_ne!(at_hash("other", Algorithm::Rs256), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
