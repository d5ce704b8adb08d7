use std::sync::OnceLock;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokens::{Algorithm, ClientJwks, SigningKey};

use super::*;
use crate::testutil::client;

const NOW: i64 = 1_800_000_000;
const TOKEN_URL: &str = "https://id.example/token";
const AUDIENCES: &[&str] = &["https://id.example", TOKEN_URL];

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(Algorithm::Es256, 1).unwrap())
}

fn jwks() -> ClientJwks {
    ClientJwks::parse(&json!({"keys": [key().public_jwk()]}).to_string()).unwrap()
}

fn pkj_client() -> Client {
    Client { token_endpoint_auth_method: "private_key_jwt".into(), secret_hash: None, ..client() }
}

fn csj_client() -> Client {
    Client { token_endpoint_auth_method: "client_secret_jwt".into(), ..client() }
}

fn claims() -> Value {
    json!({"iss": "client-1", "sub": "client-1", "aud": TOKEN_URL, "exp": NOW + 60, "iat": NOW, "jti": "j-1"})
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut c = claims();
    change(&mut c);
    c
}

fn signed(claims: &Value) -> String {
    key().sign_jwt("JWT", claims).unwrap()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// An HS256 JWS (RFC 7515 §7.1) keyed with `secret`.
fn hs256(claims: &Value, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(&json!({"alg": "HS256", "typ": "JWT"})), b64(claims));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn check(claims: &Value) -> Result<VerifiedAssertion, AssertionError> {
    verify(&signed(claims), &pkj_client(), AssertionKey::Jwks(&jwks()), AUDIENCES, NOW)
}

#[test]
fn a_good_private_key_jwt_assertion_passes_with_its_jti() {
    let v = check(&claims()).unwrap();
    assert_eq!(v, VerifiedAssertion { jti: "j-1".into(), expires_at: NOW + 60 + LEEWAY_SECS });
    // The issuer and an array holding it are audiences too (OIDC Core §9, RFC 7523 §3).
    assert!(check(&with(|c| c["aud"] = json!("https://id.example"))).is_ok());
    assert!(check(&with(|c| c["aud"] = json!(["https://other.example", TOKEN_URL]))).is_ok());
}

#[test]
fn iss_and_sub_must_both_be_the_client_id() {
    assert_eq!(check(&with(|c| c["iss"] = json!("client-2"))), Err(AssertionError::Issuer));
    assert_eq!(check(&with(|c| c["sub"] = json!("client-2"))), Err(AssertionError::Subject));
    assert_eq!(
        check(&with(|c| {
            c.as_object_mut().unwrap().remove("sub");
        })),
        Err(AssertionError::Subject)
    );
}

#[test]
fn another_audience_is_refused() {
    for aud in [json!("https://other.example/token"), json!([]), json!(7), Value::Null] {
        assert_eq!(check(&with(|c| c["aud"] = aud.clone())), Err(AssertionError::Audience), "{aud}");
    }
}

#[test]
fn exp_is_required_not_past_and_not_too_far_ahead() {
    assert_eq!(check(&with(|c| c["exp"] = Value::Null)), Err(AssertionError::NoExpiry));
    assert_eq!(check(&with(|c| c["exp"] = json!(NOW - LEEWAY_SECS - 1))), Err(AssertionError::Expired));
    assert!(check(&with(|c| c["exp"] = json!(NOW - LEEWAY_SECS))).is_ok());
    assert_eq!(
        check(&with(|c| c["exp"] = json!(NOW + MAX_LIFETIME_SECS + LEEWAY_SECS + 1))),
        Err(AssertionError::TooLong)
    );
    assert!(check(&with(|c| c["exp"] = json!(NOW + MAX_LIFETIME_SECS))).is_ok());
}

#[test]
fn nbf_and_iat_in_the_future_are_refused() {
    assert_eq!(check(&with(|c| c["nbf"] = json!(NOW + LEEWAY_SECS + 1))), Err(AssertionError::NotYetValid));
    assert_eq!(check(&with(|c| c["iat"] = json!(NOW + 3600))), Err(AssertionError::NotYetValid));
    assert_eq!(check(&with(|c| c["iat"] = json!("yesterday"))), Err(AssertionError::NotYetValid));
    assert!(check(&with(|c| c["nbf"] = json!(NOW + 10))).is_ok());
}

#[test]
fn jti_is_required() {
    assert_eq!(check(&with(|c| c["jti"] = Value::Null)), Err(AssertionError::NoJti));
    assert_eq!(check(&with(|c| c["jti"] = json!(""))), Err(AssertionError::NoJti));
    assert_eq!(check(&with(|c| c["jti"] = json!("x".repeat(MAX_JTI_LEN + 1)))), Err(AssertionError::NoJti));
}

#[test]
fn alg_none_is_refused() {
    let token = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims()));
    let got = verify(&token, &pkj_client(), AssertionKey::Jwks(&jwks()), AUDIENCES, NOW);
    assert_eq!(got, Err(AssertionError::Key(AssertionKeyError::Algorithm)));
}

#[test]
fn hmac_is_refused_for_private_key_jwt() {
    // Keyed with the public JWK's text: the classic algorithm-confusion forgery.
    let token = hs256(&claims(), key().public_jwk().to_string().as_bytes());
    let got = verify(&token, &pkj_client(), AssertionKey::Jwks(&jwks()), AUDIENCES, NOW);
    assert_eq!(got, Err(AssertionError::Key(AssertionKeyError::Algorithm)));
}

#[test]
fn an_unknown_kid_is_reported_as_such() {
    let other = ClientJwks::parse(
        &json!({"keys": [SigningKey::generate(Algorithm::Es256, 2).unwrap().public_jwk()]}).to_string(),
    )
    .unwrap();
    let got = verify(&signed(&claims()), &pkj_client(), AssertionKey::Jwks(&other), AUDIENCES, NOW);
    assert_eq!(got, Err(AssertionError::Key(AssertionKeyError::UnknownKey)));
}

#[test]
fn client_secret_jwt_is_hs256_with_the_secret() {
    let c = csj_client();
    let token = hs256(&claims(), b"s3cret");
    assert_eq!(verify(&token, &c, AssertionKey::Secret(b"s3cret"), AUDIENCES, NOW).unwrap().jti, "j-1");
    assert_eq!(
        verify(&token, &c, AssertionKey::Secret(b"wrong"), AUDIENCES, NOW),
        Err(AssertionError::Key(AssertionKeyError::BadSignature))
    );
    // An asymmetric signature is not client_secret_jwt.
    assert_eq!(
        verify(&signed(&claims()), &c, AssertionKey::Secret(b"s3cret"), AUDIENCES, NOW),
        Err(AssertionError::Key(AssertionKeyError::Algorithm))
    );
}

#[test]
fn a_client_may_use_only_its_registered_method() {
    let token = signed(&claims());
    let jwks = jwks();
    for c in [client(), csj_client(), crate::testutil::public_client()] {
        assert_eq!(
            verify(&token, &c, AssertionKey::Jwks(&jwks), AUDIENCES, NOW),
            Err(AssertionError::WrongMethod)
        );
    }
    let hs = hs256(&claims(), b"s3cret");
    assert_eq!(
        verify(&hs, &pkj_client(), AssertionKey::Secret(b"s3cret"), AUDIENCES, NOW),
        Err(AssertionError::WrongMethod)
    );
    assert!(is_jwt_method(&pkj_client()) && is_jwt_method(&csj_client()) && !is_jwt_method(&client()));
}
