//! Client authentication with a JWT assertion (RFC 7523 §2.2 and §3, OIDC Core §9): the body's
//! assertion parameters through `PresentedCredentials::from_request` (which reads the unverified
//! `sub`), then `oauth::client_assertion::verify` — header, signature and claims — for a fixed
//! `private_key_jwt` client (a JWKS with an ES256 and an RS256 public key) and a fixed
//! `client_secret_jwt` client. Only the jti store lies outside; `verify` is pure.
//!
//! The first byte picks a mode; the rest is split at 0xFF into fields:
//!
//! | mode | the assertion | fields after it |
//! |---|---|---|
//! | 0 | field 0, as text | client_id, an extra audience |
//! | 1 | fields 0–2 (header, claims, signature), each base64url-encoded | client_id, audience |
//! | 2 | a header naming one of our keys, fields 0–1 as claims and signature | client_id, audience |
//! | 3 | field 0 as JSON claims, **signed** with our ES256 key | client_id, audience |
//! | 4 | field 0 as JSON claims, **signed** with our RS256 key | client_id, audience |
//! | 5 | fields 0–1 as header and claims, **HMAC-signed** with our client secret | client_id, audience |
//! | 6 | like 5, keyed with our public JWKS's text (algorithm confusion) | client_id, audience |
//!
//! The keys and the secret are made at start-up, so only modes 3–5 can carry a valid
//! signature: anything else that passes is a forgery, and the target panics. What passes in
//! modes 3–5 must meet RFC 7523 §3, checked here again without the crate's code.
#![no_main]

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use oauth::client_assertion::{
    self, ASSERTION_TYPE, AssertionKey, LEEWAY_SECS, MAX_JTI_LEN, MAX_LIFETIME_SECS, VerifiedAssertion,
};
use oauth::{BodyCredentials, Client, ClientId, ClientKeys, PresentedCredentials};
use serde_json::Value;
use tokens::{Algorithm, ClientJwks, SigningKey};

const NOW: i64 = 1_800_000_000;
const CLIENT_ID: &str = "client-1";
const AUDIENCES: [&str; 3] =
    ["https://id.example.org", "https://id.example.org/token", "https://id.example.org/par"];

struct Fixture {
    es256: SigningKey,
    rs256: SigningKey,
    jwks_text: String,
    jwks: ClientJwks,
    secret: [u8; 32],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let es256 = SigningKey::generate(Algorithm::Es256, 0).expect("an ES256 key");
        let rs256 = SigningKey::generate(Algorithm::Rs256, 0).expect("an RS256 key");
        let jwks_text = serde_json::json!({"keys": [es256.public_jwk(), rs256.public_jwk()]}).to_string();
        let jwks = ClientJwks::parse(&jwks_text).expect("our JWKS");
        let mut secret = [0u8; 32];
        SystemRandom::new().fill(&mut secret).expect("random bytes");
        Fixture { es256, rs256, jwks_text, jwks, secret }
    })
}

fn client(id: &str, method: &str) -> Client {
    Client {
        id: ClientId::from_stored(id.to_owned()),
        name: "fuzz".into(),
        secret_hash: None,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec!["client_credentials".into()],
        scopes: vec![],
        token_endpoint_auth_method: method.into(),
        keys: ClientKeys::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec![],
        created_at: 0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party: false,
        require_pushed_authorization_requests: false,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A compact JWS whose signature is an HMAC-SHA256 over `header.claims` keyed with `key`.
fn hmac_signed(header: &[u8], claims: &[u8], key: &[u8]) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// RFC 7523 §3, written out again: what any assertion that passed must satisfy.
fn check_rules(token: &str, client_id: &str, audiences: &[&str], v: &VerifiedAssertion) {
    let claims: Value = token
        .split('.')
        .nth(1)
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|c| serde_json::from_slice(&c).ok())
        .expect("an accepted assertion has JSON claims");
    assert_eq!(claims["iss"].as_str(), Some(client_id), "iss is not the client");
    assert_eq!(claims["sub"].as_str(), Some(client_id), "sub is not the client");
    let aud_ok = match &claims["aud"] {
        Value::String(a) => audiences.contains(&a.as_str()),
        Value::Array(list) => list.iter().any(|a| a.as_str().is_some_and(|a| audiences.contains(&a))),
        _ => false,
    };
    assert!(aud_ok, "aud names another server: {}", claims["aud"]);
    let exp = claims["exp"].as_i64().expect("exp is an integer");
    assert!(exp + LEEWAY_SECS >= NOW && exp <= NOW + MAX_LIFETIME_SECS + LEEWAY_SECS, "exp {exp}");
    for name in ["nbf", "iat"] {
        if let Some(t) = claims.get(name) {
            assert!(t.as_i64().is_some_and(|t| t <= NOW + LEEWAY_SECS), "{name} {t}");
        }
    }
    assert_eq!(claims["jti"].as_str(), Some(v.jti.as_str()));
    assert!(!v.jti.is_empty() && v.jti.len() <= MAX_JTI_LEN);
    assert_eq!(v.expires_at, exp + LEEWAY_SECS);
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else { return };
    let f = fixture();
    let mode = mode % 7;
    let mut fields = rest.split(|b| *b == 0xFF);
    let mut next = || fields.next().unwrap_or_default();
    let token = match mode {
        0 => text(next()),
        1 => [next(), next(), next()].map(|p| URL_SAFE_NO_PAD.encode(p)).join("."),
        2 => {
            let (alg, kid) = match next().first().map(|b| b % 3) {
                Some(0) => ("ES256", f.es256.kid()),
                Some(1) => ("RS256", f.rs256.kid()),
                _ => ("HS256", ""),
            };
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#);
            [header.as_bytes(), next(), next()].map(|p| URL_SAFE_NO_PAD.encode(p)).join(".")
        }
        3 | 4 => {
            let Ok(claims) = serde_json::from_slice::<Value>(next()) else { return };
            let key = if mode == 3 { &f.es256 } else { &f.rs256 };
            key.sign_jwt("JWT", &claims).expect("signing")
        }
        5 => hmac_signed(next(), next(), &f.secret),
        _ => hmac_signed(next(), next(), f.jwks_text.as_bytes()),
    };
    let id_field = next();
    let client_id = if id_field.is_empty() { CLIENT_ID.to_owned() } else { text(id_field) };
    let extra_aud = text(next());
    let mut audiences: Vec<&str> = AUDIENCES.to_vec();
    if !extra_aud.is_empty() {
        audiences.push(&extra_aud);
    }

    // The request's parameters, as the token endpoint reads them (RFC 7521 §4.2).
    let body = BodyCredentials {
        client_id: (!id_field.is_empty()).then_some(client_id.as_str()),
        client_secret: None,
        client_assertion_type: Some(ASSERTION_TYPE),
        client_assertion: Some(&token),
    };
    if let Ok(Some(presented)) = PresentedCredentials::from_request(None, body) {
        assert!(matches!(presented, PresentedCredentials::Assertion { .. }));
        assert!(!presented.client_id().is_empty(), "an assertion naming an empty client");
    }

    let pkj = client(&client_id, "private_key_jwt");
    let csj = client(&client_id, "client_secret_jwt");
    let by_jwks = client_assertion::verify(&token, &pkj, AssertionKey::Jwks(&f.jwks), &audiences, NOW);
    let by_secret = client_assertion::verify(&token, &csj, AssertionKey::Secret(&f.secret), &audiences, NOW);
    // A client may use only its own method (OIDC Dynamic Registration §2).
    assert!(
        client_assertion::verify(&token, &pkj, AssertionKey::Secret(&f.secret), &audiences, NOW).is_err()
    );
    assert!(client_assertion::verify(&token, &csj, AssertionKey::Jwks(&f.jwks), &audiences, NOW).is_err());

    match mode {
        3 | 4 => {
            assert!(by_secret.is_err(), "an asymmetric signature passed as client_secret_jwt");
            if let Ok(v) = &by_jwks {
                check_rules(&token, &client_id, &audiences, v);
            }
        }
        5 => {
            assert!(by_jwks.is_err(), "an HMAC passed as private_key_jwt");
            if let Ok(v) = &by_secret {
                // RFC 8725 §3.1: the header's alg is what was checked, and only HS256 is allowed.
                let header: Value = serde_json::from_slice(
                    &URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap_or_default()).unwrap_or_default(),
                )
                .expect("an accepted assertion has a JSON header");
                assert_eq!(header["alg"], "HS256");
                check_rules(&token, &client_id, &audiences, v);
            }
        }
        // Nothing else is signed with our keys.
        _ => {
            assert!(by_jwks.is_err(), "forged private_key_jwt assertion accepted: {token:?}");
            assert!(by_secret.is_err(), "forged client_secret_jwt assertion accepted: {token:?}");
        }
    }
});
