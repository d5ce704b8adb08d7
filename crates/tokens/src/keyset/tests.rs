use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::rotation::{self, RotateWhen, Rotation};
use crate::signing::tests::test_key;
use crate::{ACCESS_TOKEN_TYP, AccessTokenClaims, ID_TOKEN_TYP, IdTokenClaims, StoredKey};

const ISS: &str = "https://id.example";
const NOW: i64 = 1_700_000_000;
/// How long a retired key stays published.
const RETAIN: i64 = 600;

/// An in-memory key store; `inject` simulates another node inserting during our first insert.
#[derive(Default)]
struct MemStore {
    rows: Mutex<Vec<StoredKey>>,
    inserts: Mutex<usize>,
    inject: Mutex<Vec<StoredKey>>,
}

impl KeyStore for MemStore {
    fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self.rows.lock().unwrap().clone())
    }
    fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        rows.append(&mut self.inject.lock().unwrap());
        if !rows.iter().any(|r| r.kid == key.kid) {
            rows.push(key.clone());
        }
        *self.inserts.lock().unwrap() += 1;
        Ok(())
    }
    fn rotate_key(
        &self,
        new: &StoredKey,
        now: i64,
        lead_secs: i64,
        when: RotateWhen,
    ) -> Result<Rotation, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let alg = Algorithm::parse(&new.alg).unwrap();
        let decision = rotation::plan(&rows, alg, now, lead_secs, when);
        if let Rotation::Rotate { at, retire } = &decision {
            for row in rows.iter_mut().filter(|r| retire.contains(&r.kid)) {
                row.retires_at = Some(*at);
            }
            rows.push(StoredKey { activates_at: *at, ..new.clone() });
        }
        Ok(decision)
    }
}

/// A set over the shared test keys (no RSA generation per test).
fn test_set() -> KeySet {
    let master = MasterKey::generate();
    let keys = Algorithm::ALL
        .map(|alg| SigningKey::from_stored(&test_key(alg).to_stored(&master), &master).unwrap());
    KeySet::from_keys(keys.into()).unwrap()
}

fn access_claims(exp: i64) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: ISS.into(),
        sub: "user-1".into(),
        aud: "client-1".into(),
        exp,
        iat: NOW,
        jti: "jti-1".into(),
        client_id: "client-1".into(),
        scope: "openid email".into(),
        auth_time: Some(NOW - 10),
        gid: "grant-1".into(),
    }
}

fn id_claims() -> IdTokenClaims {
    IdTokenClaims {
        iss: ISS.into(),
        sub: "user-1".into(),
        aud: "client-1".into(),
        exp: NOW + 300,
        iat: NOW,
        auth_time: NOW - 10,
        nonce: Some("n-0S6_WzA2Mj".into()),
        at_hash: Some(crate::at_hash("token", Algorithm::Rs256)),
        amr: vec!["pwd".into()],
        sid: "sid-1".into(),
        azp: "client-1".into(),
        idp: None,
    }
}

fn verify_at(set: &KeySet, token: &str) -> Result<AccessTokenClaims, TokenError> {
    set.verify(token, ACCESS_TOKEN_TYP, ISS, NOW)
}

/// Signs raw header and payload JSON with `key`, for tokens `sign_jwt` would never make.
fn sign_raw(key: &SigningKey, header: &Value, payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn tokens_round_trip_for_both_algorithms() {
    let set = test_set();
    for alg in Algorithm::ALL {
        let signer = set.signer(alg);
        assert_eq!(signer.alg(), alg);
        let at = signer.sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60)).unwrap();
        assert_eq!(verify_at(&set, &at).unwrap(), access_claims(NOW + 60));
        let id = signer.sign_jwt(ID_TOKEN_TYP, &id_claims()).unwrap();
        let back: IdTokenClaims = set.verify(&id, ID_TOKEN_TYP, ISS, NOW).unwrap();
        assert_eq!(back, id_claims());
    }
}

#[test]
fn tampered_tokens_are_rejected() {
    let set = test_set();
    for alg in Algorithm::ALL {
        let token = set.signer(alg).sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60)).unwrap();
        let (signed, _) = token.rsplit_once('.').unwrap();
        let mut other = access_claims(NOW + 60);
        other.sub = "admin".into();
        let forged = set.signer(alg).sign_jwt(ACCESS_TOKEN_TYP, &other).unwrap();
        // Someone else's payload under our header and signature.
        let (header, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged_payload = forged.split('.').nth(1).unwrap();
        let swapped = format!("{header}.{forged_payload}.{sig}");
        assert!(matches!(verify_at(&set, &swapped), Err(TokenError::BadSignature)), "{alg}");
        // A flipped bit in the signature.
        let mut sig_bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig_bytes[10] ^= 1;
        let bad_sig = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig_bytes));
        assert!(matches!(verify_at(&set, &bad_sig), Err(TokenError::BadSignature)), "{alg}");
        assert!(verify_at(&set, &format!("{signed}.")).is_err());
        assert!(matches!(verify_at(&set, "not.a.jwt"), Err(TokenError::Malformed)));
    }
}

#[test]
fn wrong_issuer_is_rejected() {
    let set = test_set();
    let mut claims = access_claims(NOW + 60);
    claims.iss = "https://evil.example".into();
    let token = set.signer(Algorithm::Es256).sign_jwt(ACCESS_TOKEN_TYP, &claims).unwrap();
    assert!(matches!(verify_at(&set, &token), Err(TokenError::WrongIssuer)));
    let good = set.signer(Algorithm::Es256).sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60));
    let result = set.verify::<AccessTokenClaims>(&good.unwrap(), ACCESS_TOKEN_TYP, "https://x", NOW);
    assert!(matches!(result, Err(TokenError::WrongIssuer)));
}

#[test]
fn expiry_is_checked_against_the_given_clock() {
    let set = test_set();
    let signer = set.signer(Algorithm::Rs256);
    let at_now = signer.sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW)).unwrap();
    assert!(matches!(verify_at(&set, &at_now), Err(TokenError::Expired)));
    let next = signer.sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 1)).unwrap();
    assert!(verify_at(&set, &next).is_ok());
    let result = set.verify::<AccessTokenClaims>(&next, ACCESS_TOKEN_TYP, ISS, NOW + 1);
    assert!(matches!(result, Err(TokenError::Expired)));
    let no_exp = sign_raw(
        signer,
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": signer.kid()}),
        &json!({"iss": ISS}),
    );
    assert!(matches!(verify_at(&set, &no_exp), Err(TokenError::Malformed)));
}

#[test]
fn token_type_must_match() {
    let set = test_set();
    let signer = set.signer(Algorithm::Es256);
    let id = signer.sign_jwt(ID_TOKEN_TYP, &access_claims(NOW + 60)).unwrap();
    assert!(matches!(verify_at(&set, &id), Err(TokenError::WrongType { .. })));
    for typ in ["AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
        let token = signer.sign_jwt(typ, &access_claims(NOW + 60)).unwrap();
        assert!(verify_at(&set, &token).is_ok(), "{typ}");
    }
    let untyped = sign_raw(
        signer,
        &json!({"alg": "ES256", "kid": signer.kid()}),
        &serde_json::to_value(access_claims(NOW + 60)).unwrap(),
    );
    assert!(matches!(verify_at(&set, &untyped), Err(TokenError::WrongType { .. })));
    assert!(!typ_matches("xat+jwt", "at+jwt"));
}

#[test]
fn unknown_kid_and_mismatched_alg_are_rejected() {
    let set = test_set();
    let stranger = SigningKey::generate(Algorithm::Es256, NOW).unwrap();
    let token = stranger.sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60)).unwrap();
    assert!(matches!(verify_at(&set, &token), Err(TokenError::UnknownKey)));
    // Header says RS256 but names the ES256 key (RFC 8725 §3.1: one algorithm per key).
    let rsa = set.signer(Algorithm::Rs256);
    let ec_kid = set.signer(Algorithm::Es256).kid();
    let claims = serde_json::to_value(access_claims(NOW + 60)).unwrap();
    let mixed = sign_raw(rsa, &json!({"alg": "RS256", "typ": "at+jwt", "kid": ec_kid}), &claims);
    assert!(matches!(verify_at(&set, &mixed), Err(TokenError::UnknownKey)));
    let no_kid = sign_raw(rsa, &json!({"alg": "RS256", "typ": "at+jwt"}), &claims);
    assert!(matches!(verify_at(&set, &no_kid), Err(TokenError::UnknownKey)));
    let crit = json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa.kid(), "crit": ["x"], "x": 1});
    assert!(matches!(verify_at(&set, &sign_raw(rsa, &crit, &claims)), Err(TokenError::Malformed)));
    // alg "none" and HMAC are refused before any key is looked at.
    for alg in ["none", "HS256"] {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "at+jwt"}).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let token = format!("{header}.{payload}.");
        assert!(verify_at(&set, &token).unwrap_err().is_invalid_token(), "{alg}");
    }
}

#[test]
fn jwks_lists_every_key_without_private_parts() {
    let set = test_set();
    let jwks: Value = serde_json::from_str(set.jwks_json()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for (jwk, key) in keys.iter().zip(set.keys()) {
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["alg"], key.alg().as_str());
        assert_eq!(jwk["use"], "sig");
        assert!(jwk.get("d").is_none());
    }
    assert!(!set.jwks_json().contains("\"d\""));
}

#[test]
fn jsonwebtoken_verifies_our_tokens_from_the_jwks_alone() {
    let set = test_set();
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(set.jwks_json()).unwrap();
    let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap();
    for alg in Algorithm::ALL {
        let token = set.signer(alg).sign_jwt(ACCESS_TOKEN_TYP, &access_claims(now + 300)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let key = DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = Validation::new(alg.to_jsonwebtoken());
        validation.set_issuer(&[ISS]);
        validation.set_audience(&["client-1"]);
        let data = jsonwebtoken::decode::<AccessTokenClaims>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims, access_claims(now + 300));
        assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
    }
}

#[test]
fn reopened_keys_sign_tokens_the_original_jwks_verifies() {
    let original = test_set();
    let master = MasterKey::generate();
    for alg in Algorithm::ALL {
        let stored = original.signer(alg).to_stored(&master);
        let reopened = SigningKey::from_stored(&stored, &master).unwrap();
        let token = reopened.sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60)).unwrap();
        assert!(verify_at(&original, &token).is_ok(), "{alg}");
    }
}

#[test]
fn load_generates_one_key_per_alg_then_reuses_them() {
    let store = MemStore::default();
    let master = MasterKey::generate();
    let first = KeySet::load(&store, &master, NOW, RETAIN).unwrap();
    assert_eq!(store.rows.lock().unwrap().len(), 2);
    assert_eq!(*store.inserts.lock().unwrap(), 2);
    let second = KeySet::load(&store, &master, NOW + 100, RETAIN).unwrap();
    assert_eq!(*store.inserts.lock().unwrap(), 2);
    for alg in Algorithm::ALL {
        assert_eq!(first.signer(alg).kid(), second.signer(alg).kid());
        assert_eq!(first.signer(alg).alg(), alg);
    }
    assert_eq!(first.jwks_json(), second.jwks_json());
    let token = first.signer(Algorithm::Es256).sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60));
    assert!(verify_at(&second, &token.unwrap()).is_ok());
    // The wrong master key is an error, never a silent regeneration.
    let other = KeySet::load(&store, &MasterKey::generate(), NOW, RETAIN);
    assert!(matches!(other, Err(TokenError::Unseal)));
}

#[test]
fn a_rotated_key_is_published_first_signs_later_and_the_old_one_lingers() {
    let store = MemStore::default();
    let master = MasterKey::generate();
    let first = KeySet::load(&store, &master, NOW, RETAIN).unwrap();
    let old_kid = first.signer(Algorithm::Es256).kid().to_owned();
    let old_token = first.signer(Algorithm::Es256).sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 900));

    let new = SigningKey::generate(Algorithm::Es256, NOW + 10).unwrap();
    let decision = store.rotate_key(&new.to_stored(&master), NOW + 10, 60, RotateWhen::Now).unwrap();
    assert_eq!(decision, Rotation::Rotate { at: NOW + 70, retire: vec![old_kid.clone()] });
    let jwks_has = |set: &KeySet, kid: &str| set.jwks_json().contains(kid);

    // Pending: published, not signing.
    let pending = KeySet::load(&store, &master, NOW + 20, RETAIN).unwrap();
    assert!(jwks_has(&pending, new.kid()) && jwks_has(&pending, &old_kid));
    assert_eq!(pending.signer(Algorithm::Es256).kid(), old_kid);
    // Active: signs; the old key still verifies what it signed.
    let active = KeySet::load(&store, &master, NOW + 70, RETAIN).unwrap();
    assert_eq!(active.signer(Algorithm::Es256).kid(), new.kid());
    assert_eq!(active.signer(Algorithm::Rs256).kid(), first.signer(Algorithm::Rs256).kid());
    assert!(jwks_has(&active, &old_kid));
    let old_token = old_token.unwrap();
    assert!(active.verify::<AccessTokenClaims>(&old_token, ACCESS_TOKEN_TYP, ISS, NOW + 100).is_ok());
    // Past its retention the old key is gone from the JWKS and verifies nothing.
    let later = KeySet::load(&store, &master, NOW + 70 + RETAIN, RETAIN).unwrap();
    assert!(!jwks_has(&later, &old_kid) && jwks_has(&later, new.kid()));
    assert!(matches!(
        later.verify::<AccessTokenClaims>(&old_token, ACCESS_TOKEN_TYP, ISS, NOW + 100),
        Err(TokenError::UnknownKey)
    ));
    // No new key is generated for an algorithm whose only key is retired but kept.
    assert_eq!(store.rows.lock().unwrap().len(), 3);
}

#[test]
fn racing_first_starts_sign_with_keys_both_nodes_know() {
    let master = MasterKey::generate();
    // Node B lists, inserts and lists again before node A inserts.
    let store_b = MemStore::default();
    let node_b = KeySet::load(&store_b, &master, NOW, RETAIN).unwrap();
    // Node A listed an empty table too; B's rows land just before A's first insert.
    let shared = MemStore::default();
    *shared.inject.lock().unwrap() = store_b.rows.lock().unwrap().clone();
    let node_a = KeySet::load(&shared, &master, NOW, RETAIN).unwrap();
    assert_eq!(shared.rows.lock().unwrap().len(), 4);
    for alg in Algorithm::ALL {
        for (signer, verifier) in [(&node_a, &node_b), (&node_b, &node_a)] {
            let token = signer.signer(alg).sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW + 60));
            assert!(verify_at(verifier, &token.unwrap()).is_ok(), "{alg}");
        }
    }
}

#[test]
fn an_expired_token_verifies_when_expiry_is_waived_but_nothing_else_is() {
    let set = test_set();
    let signer = set.signer(Algorithm::Rs256);
    let expired = signer.sign_jwt(ACCESS_TOKEN_TYP, &access_claims(NOW - 3600)).unwrap();
    assert!(matches!(verify_at(&set, &expired), Err(TokenError::Expired)));
    let claims: AccessTokenClaims = set.verify_allowing_expired(&expired, ACCESS_TOKEN_TYP, ISS).unwrap();
    assert_eq!(claims.exp, NOW - 3600);
    let wrong_iss = set.verify_allowing_expired::<AccessTokenClaims>(&expired, ACCESS_TOKEN_TYP, "https://x");
    assert!(matches!(wrong_iss, Err(TokenError::WrongIssuer)));
    let wrong_typ = set.verify_allowing_expired::<AccessTokenClaims>(&expired, "JWT", ISS);
    assert!(matches!(wrong_typ, Err(TokenError::WrongType { .. })));
    let no_exp = sign_raw(
        signer,
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": signer.kid()}),
        &json!({"iss": ISS}),
    );
    let no_exp = set.verify_allowing_expired::<AccessTokenClaims>(&no_exp, ACCESS_TOKEN_TYP, ISS);
    assert!(matches!(no_exp, Err(TokenError::Malformed)));
}
