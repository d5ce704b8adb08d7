//! Verifying the JWTs *clients* sign to authenticate (RFC 7523 §2.2, OIDC Core §9
//! `private_key_jwt` and `client_secret_jwt`): the client's public keys (a JWKS document it
//! registered or publishes) or its shared secret. Only the signature and the algorithm are
//! checked here; the claims (`iss`, `sub`, `aud`, `exp`, `jti`) are the `oauth` crate's rules.

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{DecodingKey, Validation};

/// Algorithms a `private_key_jwt` assertion may use: asymmetric only (never `none` or HS*,
/// which would let anyone holding the public key forge one, RFC 8725 §2.1 and §3.1).
pub const PUBLIC_KEY_ALGS: &[&str] =
    &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/// Algorithms a `client_secret_jwt` assertion may use. RFC 7518 §3.2: the HMAC key must be at
/// least as long as the hash output; gatehouse's client secrets are 43 octets (256 bits of
/// entropy, base64url), enough for HS256 only, so HS384/HS512 are refused rather than used with
/// a key shorter than the standard requires.
pub const SECRET_ALGS: &[&str] = &["HS256"];

/// Why an assertion's signature could not be accepted. All earn `invalid_client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionKeyError {
    #[error("assertion is not a well-formed JWS")]
    Malformed,
    /// `alg` is not one this method accepts (e.g. `none`, or HS256 for private_key_jwt).
    #[error("assertion algorithm is not accepted for this client")]
    Algorithm,
    /// No key of the client's JWKS matches the header's `kid` and `alg`.
    #[error("assertion is signed by a key the client has not registered")]
    UnknownKey,
    #[error("assertion signature is invalid")]
    BadSignature,
}

/// A client's public keys, parsed once from its JWKS (RFC 7517 §5). Symmetric (`oct`) and
/// unknown key types are dropped: a JWKS publishes public keys, and an `oct` entry would turn
/// a published document into an HMAC secret.
pub struct ClientJwks {
    keys: Vec<ClientKey>,
}

struct ClientKey {
    kid: Option<String>,
    /// The JWK's `alg`, if it names one (RFC 7517 §4.4): then only that algorithm verifies.
    alg: Option<jsonwebtoken::Algorithm>,
    decoding: DecodingKey,
    family: jsonwebtoken::AlgorithmFamily,
}

impl ClientJwks {
    /// Parses `{"keys":[...]}`; fails on anything that is not a JWKS with at least one usable
    /// public key (a registration error to report, or a fetched document to discard).
    pub fn parse(json: &str) -> Result<ClientJwks, &'static str> {
        let set: JwkSet =
            serde_json::from_str(json).map_err(|_| "not a JWKS document ({\"keys\": [...]})")?;
        let keys: Vec<ClientKey> = set
            .keys
            .iter()
            .filter(|jwk| {
                // RFC 7517 §4.2: a key marked for encryption does not verify signatures.
                !matches!(jwk.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Encryption))
            })
            .filter_map(|jwk| {
                let family = match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => jsonwebtoken::AlgorithmFamily::Rsa,
                    AlgorithmParameters::EllipticCurve(_) => jsonwebtoken::AlgorithmFamily::Ec,
                    AlgorithmParameters::OctetKeyPair(_) => jsonwebtoken::AlgorithmFamily::Ed,
                    _ => return None,
                };
                let alg = match jwk.common.key_algorithm {
                    None => None,
                    Some(a) => Some(a.to_string().parse::<jsonwebtoken::Algorithm>().ok()?),
                };
                let decoding = DecodingKey::from_jwk(jwk).ok()?;
                Some(ClientKey { kid: jwk.common.key_id.clone(), alg, decoding, family })
            })
            .collect();
        if keys.is_empty() {
            return Err("the JWKS has no RSA, EC or OKP public key");
        }
        Ok(ClientJwks { keys })
    }

    /// Whether a key with this `kid` is in the set (to decide whether to fetch the set again).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

impl std::fmt::Debug for ClientJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| k.kid.as_deref().unwrap_or("")).collect();
        f.debug_struct("ClientJwks").field("kids", &kids).finish()
    }
}

/// The header members that pick the key: `alg` and `kid`, unverified.
pub fn assertion_header(token: &str) -> Result<(String, Option<String>), AssertionKeyError> {
    // An `alg` jsonwebtoken does not know (`none` among them) fails to parse: Algorithm.
    let header = jsonwebtoken::decode_header(token).map_err(|_| AssertionKeyError::Algorithm)?;
    let alg = serde_json::to_value(header.alg)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or(AssertionKeyError::Malformed)?;
    Ok((alg, header.kid))
}

/// The claims of an assertion **without verifying it**: only to learn which client it claims to
/// come from (`sub`) before its keys are looked up. Never trust anything else read this way.
pub fn unverified_claims(token: &str) -> Option<serde_json::Value> {
    jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(token).ok()
}

/// Verifies a `private_key_jwt` assertion's signature with the client's keys and returns its
/// claims. The key is the one named by `kid`; without a `kid`, every key of the right family is
/// tried (OIDC Core §10.1: a `kid` may be omitted when the choice is unambiguous).
pub fn verify_with_jwks(token: &str, jwks: &ClientJwks) -> Result<serde_json::Value, AssertionKeyError> {
    let (alg_name, kid) = assertion_header(token)?;
    if !PUBLIC_KEY_ALGS.contains(&alg_name.as_str()) {
        return Err(AssertionKeyError::Algorithm);
    }
    let alg: jsonwebtoken::Algorithm = alg_name.parse().map_err(|_| AssertionKeyError::Algorithm)?;
    let candidates: Vec<&ClientKey> = jwks
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.kid == kid)
        .filter(|k| k.family == alg.family() && k.alg.is_none_or(|a| a == alg))
        .collect();
    if candidates.is_empty() {
        return Err(AssertionKeyError::UnknownKey);
    }
    let mut last = AssertionKeyError::BadSignature;
    for key in candidates {
        match decode(token, &key.decoding, alg) {
            Ok(claims) => return Ok(claims),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Verifies a `client_secret_jwt` assertion: HMAC keyed with the octets of the client secret
/// (OIDC Core §9), algorithms from [`SECRET_ALGS`] only.
pub fn verify_with_secret(token: &str, secret: &[u8]) -> Result<serde_json::Value, AssertionKeyError> {
    let (alg_name, _) = assertion_header(token)?;
    if !SECRET_ALGS.contains(&alg_name.as_str()) {
        return Err(AssertionKeyError::Algorithm);
    }
    let alg: jsonwebtoken::Algorithm = alg_name.parse().map_err(|_| AssertionKeyError::Algorithm)?;
    decode(token, &DecodingKey::from_secret(secret), alg)
}

fn decode(
    token: &str,
    key: &DecodingKey,
    alg: jsonwebtoken::Algorithm,
) -> Result<serde_json::Value, AssertionKeyError> {
    let mut validation = Validation::new(alg);
    // Every claim is checked by the caller against its own clock and rules.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(token, key, &validation).map(|d| d.claims).map_err(|e| match e
        .kind()
    {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => AssertionKeyError::BadSignature,
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => AssertionKeyError::Algorithm,
        _ => AssertionKeyError::Malformed,
    })
}

#[cfg(test)]
#[path = "assertion_tests.rs"]
mod tests;
