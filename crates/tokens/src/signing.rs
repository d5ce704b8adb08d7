//! One signing key: an aws-lc-rs key pair parsed once and kept, its public JWK and `kid`, and
//! compact-JWS signing (RFC 7515 §7.1). Signing never goes through jsonwebtoken, which would
//! parse the private key again on every token (DESIGN.md, cost model).

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::{Algorithm, MasterKey, StoredKey, TokenError};

/// A private signing key in memory, ready to sign.
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    created_at: i64,
    pair: Pair,
    public: PublicParts,
}

enum Pair {
    Rsa(rsa::KeyPair),
    Ec(EcdsaKeyPair),
}

/// The public key as JWK members, already base64url (RFC 7518 §6.2.1, §6.3.1).
enum PublicParts {
    Rsa { n: String, e: String },
    Ec { x: String, y: String },
}

impl SigningKey {
    /// A new RSA 2048 (RS256) or P-256 (ES256) key, created at `now` (unix seconds).
    pub fn generate(alg: Algorithm, now: i64) -> Result<SigningKey, TokenError> {
        let pair = match alg {
            Algorithm::Rs256 => Pair::Rsa(
                rsa::KeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| TokenError::Crypto("RSA key generation"))?,
            ),
            Algorithm::Es256 => Pair::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| TokenError::Crypto("P-256 key generation"))?,
            ),
        };
        Self::new(alg, pair, now)
    }

    fn new(alg: Algorithm, pair: Pair, created_at: i64) -> Result<SigningKey, TokenError> {
        let public = match &pair {
            Pair::Rsa(pair) => {
                // Big-endian without leading zeros, as RFC 7518 §6.3.1.1 wants for `n` and `e`.
                let c = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                PublicParts::Rsa { n: URL_SAFE_NO_PAD.encode(&c.n), e: URL_SAFE_NO_PAD.encode(&c.e) }
            }
            Pair::Ec(pair) => {
                // Uncompressed SEC1 point 0x04 ‖ x ‖ y; RFC 7518 §6.2.1.2 keeps x and y at the
                // full 32 bytes.
                let point = pair.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(TokenError::Crypto("unexpected P-256 public key encoding"));
                }
                PublicParts::Ec {
                    x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                    y: URL_SAFE_NO_PAD.encode(&point[33..]),
                }
            }
        };
        let kid = thumbprint(&public);
        Ok(SigningKey { kid, alg, created_at, pair, public })
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url): stable, and the same on every node.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Unix seconds.
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// The public JWK for the JWKS document (RFC 7517 §4), with `use`, `alg` and `kid`.
    pub fn public_jwk(&self) -> serde_json::Value {
        let (kid, alg) = (self.kid.as_str(), self.alg.as_str());
        match &self.public {
            PublicParts::Rsa { n, e } => {
                json!({"kty": "RSA", "use": "sig", "alg": alg, "kid": kid, "n": n, "e": e})
            }
            PublicParts::Ec { x, y } => json!({
                "kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": alg, "kid": kid
            }),
        }
    }

    /// The verification key for jsonwebtoken, built from the same public parts as the JWK.
    pub(crate) fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, TokenError> {
        match &self.public {
            PublicParts::Rsa { n, e } => jsonwebtoken::DecodingKey::from_rsa_components(n, e),
            PublicParts::Ec { x, y } => jsonwebtoken::DecodingKey::from_ec_components(x, y),
        }
        .map_err(|_| TokenError::Crypto("public key rejected by jsonwebtoken"))
    }

    /// The row to store: PKCS#8 DER sealed by the master key, with the `kid` as associated data
    /// so a sealed key cannot be moved to another row.
    pub fn to_stored(&self, master: &MasterKey) -> StoredKey {
        let der: Vec<u8> = match &self.pair {
            #[expect(clippy::expect_used, reason = "serialising a key aws-lc holds does not fail")]
            Pair::Rsa(pair) => pair.as_der().expect("RSA PKCS#8").as_ref().to_vec(),
            #[expect(clippy::expect_used, reason = "serialising a key aws-lc holds does not fail")]
            Pair::Ec(pair) => pair.to_pkcs8v1().expect("EC PKCS#8").as_ref().to_vec(),
        };
        StoredKey {
            kid: self.kid.clone(),
            alg: self.alg.as_str().to_owned(),
            sealed_private_key: master.seal(&der, self.kid.as_bytes()),
            created_at: self.created_at,
            activates_at: self.created_at,
            retires_at: None,
        }
    }

    /// Opens and parses a stored key, checking that its `kid` is its public key's thumbprint.
    pub fn from_stored(stored: &StoredKey, master: &MasterKey) -> Result<SigningKey, TokenError> {
        let alg = Algorithm::parse(&stored.alg)
            .ok_or_else(|| TokenError::UnsupportedAlgorithm(stored.alg.clone()))?;
        let der = master.open(&stored.sealed_private_key, stored.kid.as_bytes())?;
        let invalid = |reason| TokenError::InvalidStoredKey { kid: stored.kid.clone(), reason };
        let pair = match alg {
            Algorithm::Rs256 => {
                let pair = rsa::KeyPair::from_pkcs8(&der).map_err(|_| invalid("not an RSA key"))?;
                if pair.public_modulus_len() < 256 {
                    return Err(invalid("RSA key shorter than 2048 bits"));
                }
                Pair::Rsa(pair)
            }
            Algorithm::Es256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|_| invalid("not a P-256 key"))?,
            ),
        };
        let key = Self::new(alg, pair, stored.created_at)?;
        if key.kid != stored.kid {
            return Err(invalid("kid is not the key's RFC 7638 thumbprint"));
        }
        Ok(key)
    }

    /// A compact JWS (RFC 7515 §7.1) with header `{alg, typ, kid}` over the JSON of `claims`.
    pub fn sign_jwt<C: serde::Serialize>(&self, typ: &str, claims: &C) -> Result<String, TokenError> {
        let header = json!({"alg": self.alg.as_str(), "typ": typ, "kid": self.kid});
        let header = serde_json::to_vec(&header).map_err(TokenError::Claims)?;
        let payload = serde_json::to_vec(claims).map_err(TokenError::Claims)?;
        let mut jws = URL_SAFE_NO_PAD.encode(header);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut jws);
        let signature = self.sign(jws.as_bytes())?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
        Ok(jws)
    }

    pub(crate) fn sign(&self, input: &[u8]) -> Result<Vec<u8>, TokenError> {
        let rng = SystemRandom::new();
        match &self.pair {
            // RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256.
            Pair::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input, &mut sig)
                    .map_err(|_| TokenError::Crypto("RSA signing"))?;
                Ok(sig)
            }
            // RFC 7518 §3.4: the signature is R ‖ S, 32 bytes each (the FIXED encoding, not DER).
            Pair::Ec(pair) => pair
                .sign(&rng, input)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| TokenError::Crypto("ECDSA signing")),
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace; SHA-256;
/// base64url. The members are base64url strings, so no JSON escaping is needed.
fn thumbprint(public: &PublicParts) -> String {
    let canonical = match public {
        PublicParts::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
        PublicParts::Ec { x, y } => {
            format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
        }
    };
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One key per alg, generated once for the whole test binary (RSA generation is slow).
    pub(crate) fn test_key(alg: Algorithm) -> &'static SigningKey {
        static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
        let keys =
            KEYS.get_or_init(|| Algorithm::ALL.map(|alg| SigningKey::generate(alg, 1_700_000_000).unwrap()));
        &keys[Algorithm::ALL.iter().position(|a| *a == alg).unwrap()]
    }

    fn b64_json(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1: the example RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let public = PublicParts::Rsa { n: n.into(), e: "AQAB".into() };
        assert_eq!(thumbprint(&public), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn public_jwks_have_kid_alg_use_and_no_private_parts() {
        for alg in Algorithm::ALL {
            let key = test_key(alg);
            let jwk = key.public_jwk();
            assert_eq!(jwk["kid"], key.kid());
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["use"], "sig");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none(), "{alg}: {private}");
            }
            assert_eq!(key.kid().len(), 43);
        }
        let rsa = test_key(Algorithm::Rs256).public_jwk();
        assert_eq!((rsa["kty"].as_str(), rsa["e"].as_str()), (Some("RSA"), Some("AQAB")));
        assert_eq!(URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap().len(), 256);
        let ec = test_key(Algorithm::Es256).public_jwk();
        assert_eq!((ec["kty"].as_str(), ec["crv"].as_str()), (Some("EC"), Some("P-256")));
        assert_eq!(URL_SAFE_NO_PAD.decode(ec["x"].as_str().unwrap()).unwrap().len(), 32);
    }

    #[test]
    fn jws_has_header_claims_and_signature_of_the_right_size() {
        for (alg, sig_len) in [(Algorithm::Rs256, 256), (Algorithm::Es256, 64)] {
            let key = test_key(alg);
            let jwt = key.sign_jwt("at+jwt", &json!({"sub": "s"})).unwrap();
            let parts: Vec<&str> = jwt.split('.').collect();
            assert_eq!(parts.len(), 3);
            assert_eq!(b64_json(parts[0]), json!({"alg": alg.as_str(), "typ": "at+jwt", "kid": key.kid()}));
            assert_eq!(b64_json(parts[1]), json!({"sub": "s"}));
            assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), sig_len, "{alg}");
        }
    }

    #[test]
    fn stored_keys_reopen_to_the_same_key() {
        let master = MasterKey::generate();
        for alg in Algorithm::ALL {
            let key = test_key(alg);
            let stored = key.to_stored(&master);
            assert_eq!(stored.kid, key.kid());
            assert_eq!(stored.alg, alg.as_str());
            let back = SigningKey::from_stored(&stored, &master).unwrap();
            assert_eq!(back.kid(), key.kid());
            assert_eq!(back.public_jwk(), key.public_jwk());
            assert_eq!(back.created_at(), key.created_at());
        }
    }

    #[test]
    fn stored_keys_fail_with_wrong_master_moved_kid_or_alg() {
        let master = MasterKey::generate();
        let stored = test_key(Algorithm::Es256).to_stored(&master);
        let wrong_master = SigningKey::from_stored(&stored, &MasterKey::generate());
        assert!(matches!(wrong_master, Err(TokenError::Unseal)));
        let moved = StoredKey { kid: "other".into(), ..stored.clone() };
        assert!(matches!(SigningKey::from_stored(&moved, &master), Err(TokenError::Unseal)));
        let relabelled = StoredKey { alg: "RS256".into(), ..stored.clone() };
        assert!(matches!(
            SigningKey::from_stored(&relabelled, &master),
            Err(TokenError::InvalidStoredKey { .. })
        ));
        let unknown = StoredKey { alg: "HS256".into(), ..stored };
        assert!(matches!(
            SigningKey::from_stored(&unknown, &master),
            Err(TokenError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn debug_shows_no_key_material() {
        let shown = format!("{:?}", test_key(Algorithm::Es256));
        assert!(shown.starts_with("SigningKey { kid:"), "{shown}");
        assert!(shown.ends_with(".. }"), "{shown}");
    }
}
