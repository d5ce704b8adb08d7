//! Every signing key this deployment has, loaded once: the signer per algorithm, the JWKS
//! document rendered once, and verification of the JWTs we issued.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};

use crate::{Algorithm, KeyStore, MasterKey, SigningKey, StoreError, StoredKey, TokenError, rotation};

/// The loaded keys. Cloning is cheap (one `Arc`).
#[derive(Clone, Debug)]
pub struct KeySet(Arc<Inner>);

struct Inner {
    keys: Vec<Entry>,
    /// Index into `keys` of the signer, per [`alg_index`].
    signers: [usize; 2],
    jwks: String,
}

struct Entry {
    key: SigningKey,
    /// Built once from the public JWK members, so every verification reuses it.
    decoding: DecodingKey,
}

fn alg_index(alg: Algorithm) -> usize {
    match alg {
        Algorithm::Rs256 => 0,
        Algorithm::Es256 => 1,
    }
}

impl KeySet {
    /// Loads the stored keys that are published at `now` (pending, active, or retired less
    /// than `retain_secs` ago; see [`crate::rotation`]); on first start generates and stores an
    /// RS256 and/or ES256 key for each algorithm that has none.
    ///
    /// Nodes may race on an empty table. Each inserts its own key and lists again; for an
    /// algorithm it had to generate, a node then signs with a key *another* node inserted if it
    /// sees one (the first listed), else with its own. Whoever inserted that key listed after
    /// inserting it, so the keys both nodes sign with are known to both. Otherwise the signer is
    /// the one [`rotation::signer_of`] picks.
    ///
    /// Rows with an algorithm this version does not know are skipped (a newer node may have
    /// added them); a row that fails to open (wrong master key) is an error.
    pub fn load(
        store: &impl KeyStore,
        master: &MasterKey,
        now: i64,
        retain_secs: i64,
    ) -> Result<KeySet, TokenError> {
        let published = |k: &StoredKey| {
            Algorithm::parse(&k.alg).is_some() && k.phase(now, retain_secs) != rotation::Phase::Expired
        };
        let mut stored: Vec<StoredKey> = store.list_keys()?.into_iter().filter(published).collect();
        let mut generated = Vec::new();
        for alg in Algorithm::ALL {
            if !stored.iter().any(|k| k.alg == alg.as_str()) {
                let key = SigningKey::generate(alg, now)?;
                store.insert_key(&key.to_stored(master))?;
                generated.push((alg, key.kid().to_owned()));
            }
        }
        if !generated.is_empty() {
            stored = store.list_keys()?.into_iter().filter(published).collect();
        }
        let mut signers = [None; 2];
        for alg in Algorithm::ALL {
            let of_alg = || stored.iter().filter(move |k| k.alg == alg.as_str());
            let kid = match generated.iter().find(|(a, _)| *a == alg) {
                Some((_, own)) => {
                    of_alg().find(|k| &k.kid != own).or_else(|| of_alg().find(|k| &k.kid == own))
                }
                None => rotation::signer_of(of_alg(), now),
            }
            .map(|k| k.kid.clone());
            signers[alg_index(alg)] = kid.and_then(|kid| stored.iter().position(|k| k.kid == kid));
        }
        let keys =
            stored.iter().map(|k| SigningKey::from_stored(k, master)).collect::<Result<Vec<_>, _>>()?;
        match signers {
            [Some(rs), Some(es)] => Self::build(keys, [rs, es]),
            _ => Err(TokenError::Store(StoreError("a signing key just inserted is not listed".into()))),
        }
    }

    /// A set from keys already in memory (tests, tools); the newest key of each algorithm
    /// signs. Fails unless there is at least one key per algorithm.
    pub fn from_keys(keys: Vec<SigningKey>) -> Result<KeySet, TokenError> {
        let newest = |alg| {
            keys.iter()
                .enumerate()
                .filter(|(_, k)| k.alg() == alg)
                .max_by_key(|(i, k)| (k.created_at(), *i))
                .map(|(i, _)| i)
                .ok_or(TokenError::UnsupportedAlgorithm(format!("no {alg} key")))
        };
        let signers = [newest(Algorithm::Rs256)?, newest(Algorithm::Es256)?];
        Self::build(keys, signers)
    }

    fn build(keys: Vec<SigningKey>, signers: [usize; 2]) -> Result<KeySet, TokenError> {
        let jwks = serde_json::json!({
            "keys": keys.iter().map(SigningKey::public_jwk).collect::<Vec<_>>()
        });
        let jwks = serde_json::to_string(&jwks).map_err(TokenError::Claims)?;
        let keys = keys
            .into_iter()
            .map(|key| Ok(Entry { decoding: key.decoding_key()?, key }))
            .collect::<Result<Vec<_>, TokenError>>()?;
        Ok(KeySet(Arc::new(Inner { keys, signers, jwks })))
    }

    /// The key that signs new tokens of `alg`.
    pub fn signer(&self, alg: Algorithm) -> &SigningKey {
        &self.0.keys[self.0.signers[alg_index(alg)]].key
    }

    /// Every loaded key, in store order.
    pub fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        self.0.keys.iter().map(|e| &e.key)
    }

    /// `{"keys":[...]}` with every key's public JWK (RFC 7517 §5), rendered at load.
    pub fn jwks_json(&self) -> &str {
        &self.0.jwks
    }

    /// Verifies a JWT this deployment issued and returns its claims.
    ///
    /// Checks, in order: header `typ` (explicit typing, RFC 8725 §3.11); `alg` is RS256/ES256
    /// and is the algorithm of the key named by `kid` (RFC 8725 §3.1); no `crit` (we define
    /// no extensions, RFC 7515 §4.1.11); the signature; `iss` equals `issuer`; `exp` is after
    /// `now` (RFC 7519 §4.1.4, no leeway). `aud` is the caller's to check.
    pub fn verify<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        now: i64,
    ) -> Result<C, TokenError> {
        self.verify_at(token, typ, issuer, Some(now))
    }

    /// [`verify`](Self::verify) without the `exp` check (`exp` must still be present): for an
    /// `id_token_hint`, which RP-Initiated Logout 1.0 §2 says the OP should accept even when
    /// it has expired. Only the signature, type and issuer vouch for such a token.
    pub fn verify_allowing_expired<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
    ) -> Result<C, TokenError> {
        self.verify_at(token, typ, issuer, None)
    }

    fn verify_at<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        now: Option<i64>,
    ) -> Result<C, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !header.typ.as_deref().is_some_and(|t| typ_matches(t, typ)) {
            return Err(TokenError::WrongType { expected: typ.to_owned() });
        }
        let alg = Algorithm::from_jsonwebtoken(header.alg).ok_or(TokenError::Malformed)?;
        if header.crit.is_some() {
            return Err(TokenError::Malformed);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let entry = self
            .0
            .keys
            .iter()
            .find(|e| e.key.kid() == kid && e.key.alg() == alg)
            .ok_or(TokenError::UnknownKey)?;

        let mut validation = Validation::new(alg.to_jsonwebtoken());
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.set_issuer(&[issuer]);
        // `exp` is checked below against the caller's clock, not jsonwebtoken's.
        validation.validate_exp = false;
        validation.validate_aud = false;
        let data =
            jsonwebtoken::decode::<serde_json::Value>(token, &entry.decoding, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                    _ => TokenError::Malformed,
                }
            })?;
        let exp = data.claims.get("exp").and_then(serde_json::Value::as_i64);
        match (exp, now) {
            (None, _) => return Err(TokenError::Malformed),
            (Some(exp), Some(now)) if exp <= now => return Err(TokenError::Expired),
            (Some(_), _) => {}
        }
        serde_json::from_value(data.claims).map_err(|_| TokenError::Malformed)
    }
}

/// RFC 7515 §4.1.9: `typ` compares case-insensitively, and the "application/" prefix may be
/// omitted, so "at+jwt" and "application/at+jwt" are the same type.
fn typ_matches(got: &str, want: &str) -> bool {
    const PREFIX: &str = "application/";
    let strip = |s: &str| -> String {
        let lower = s.to_ascii_lowercase();
        match lower.strip_prefix(PREFIX) {
            Some(rest) => rest.to_owned(),
            None => lower,
        }
    };
    strip(got) == strip(want)
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&SigningKey> = self.keys.iter().map(|e| &e.key).collect();
        f.debug_struct("KeySet").field("keys", &keys).field("signers", &self.signers).finish()
    }
}

#[cfg(test)]
mod tests;
