use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::*;
use crate::Algorithm;
use crate::signing::tests::test_key;

fn jwks_of(alg: Algorithm) -> ClientJwks {
    ClientJwks::parse(&json!({"keys": [test_key(alg).public_jwk()]}).to_string()).unwrap()
}

fn claims() -> serde_json::Value {
    json!({"iss": "c", "sub": "c", "aud": "https://id.example/token", "exp": 2_000_000_000, "jti": "j"})
}

fn hs256(secret: &[u8], header: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    if let Some(kid) = header.get("kid").and_then(|v| v.as_str()) {
        h.kid = Some(kid.to_owned());
    }
    jsonwebtoken::encode(&h, &claims(), &key).unwrap()
}

#[test]
fn a_client_signed_assertion_verifies_with_its_jwks() {
    for alg in Algorithm::ALL {
        let token = test_key(alg).sign_jwt("JWT", &claims()).unwrap();
        assert_eq!(verify_with_jwks(&token, &jwks_of(alg)).unwrap()["jti"], "j", "{alg}");
    }
}

#[test]
fn another_key_or_an_unknown_kid_is_refused() {
    let token = test_key(Algorithm::Es256).sign_jwt("JWT", &claims()).unwrap();
    // The set has only the RSA key: no key of the EC family.
    assert_eq!(
        verify_with_jwks(&token, &jwks_of(Algorithm::Rs256)).unwrap_err(),
        AssertionKeyError::UnknownKey
    );
    let other = crate::SigningKey::generate(Algorithm::Es256, 1).unwrap();
    let mut jwk = other.public_jwk();
    jwk["kid"] = json!(test_key(Algorithm::Es256).kid());
    let jwks = ClientJwks::parse(&json!({"keys": [jwk]}).to_string()).unwrap();
    assert_eq!(verify_with_jwks(&token, &jwks).unwrap_err(), AssertionKeyError::BadSignature);
    assert!(!jwks_of(Algorithm::Rs256).has_kid("nope"));
    assert!(jwks_of(Algorithm::Rs256).has_kid(test_key(Algorithm::Rs256).kid()));
}

#[test]
fn alg_none_and_hmac_never_pass_as_private_key_jwt() {
    let jwks = jwks_of(Algorithm::Es256);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    for header in [json!({"alg": "none"}), json!({"alg": "None"}), json!({"alg": "HS256"})] {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let token = format!("{h}.{body}.");
        assert_eq!(verify_with_jwks(&token, &jwks).unwrap_err(), AssertionKeyError::Algorithm, "{header}");
    }
    // An HS256 assertion keyed with the public JWK's text is refused as well.
    let token = hs256(test_key(Algorithm::Es256).public_jwk().to_string().as_bytes(), json!({}));
    assert_eq!(verify_with_jwks(&token, &jwks).unwrap_err(), AssertionKeyError::Algorithm);
}

#[test]
fn symmetric_keys_in_a_jwks_are_dropped() {
    let oct = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"0123456789abcdef0123456789abcdef")});
    assert!(ClientJwks::parse(&json!({"keys": [oct]}).to_string()).is_err());
    assert!(ClientJwks::parse("{}").is_err());
    assert!(ClientJwks::parse("not json").is_err());
    let mut enc = test_key(Algorithm::Es256).public_jwk();
    enc["use"] = json!("enc");
    assert!(ClientJwks::parse(&json!({"keys": [enc]}).to_string()).is_err());
}

#[test]
fn client_secret_jwt_is_hs256_with_the_secret() {
    let token = hs256(b"the-client-secret", json!({}));
    assert_eq!(verify_with_secret(&token, b"the-client-secret").unwrap()["sub"], "c");
    assert_eq!(verify_with_secret(&token, b"another-secret").unwrap_err(), AssertionKeyError::BadSignature);
    let signed = test_key(Algorithm::Es256).sign_jwt("JWT", &claims()).unwrap();
    assert_eq!(verify_with_secret(&signed, b"the-client-secret").unwrap_err(), AssertionKeyError::Algorithm);
    let key = jsonwebtoken::EncodingKey::from_secret(b"the-client-secret");
    let hs512 =
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512), &claims(), &key)
            .unwrap();
    assert_eq!(verify_with_secret(&hs512, b"the-client-secret").unwrap_err(), AssertionKeyError::Algorithm);
}

#[test]
fn unverified_claims_name_the_client_and_headers_are_read() {
    let token = test_key(Algorithm::Rs256).sign_jwt("JWT", &claims()).unwrap();
    assert_eq!(unverified_claims(&token).unwrap()["sub"], "c");
    assert_eq!(unverified_claims("a.b"), None);
    let (alg, kid) = assertion_header(&token).unwrap();
    assert_eq!(alg, "RS256");
    assert_eq!(kid.as_deref(), Some(test_key(Algorithm::Rs256).kid()));
}
