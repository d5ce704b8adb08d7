//! Minting access tokens with kept key pairs (DESIGN.md, cost model: ES256 ≈ 38 µs, RS256
//! ≈ 1.2 ms on one core), and verifying one, which introspection and userinfo do per request.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark fails loudly")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims, Algorithm, Audience, KeySet, SigningKey};

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "http://127.0.0.1:8080";

fn claims() -> AccessTokenClaims {
    AccessTokenClaims {
        iss: ISSUER.into(),
        sub: "3b241101-e2bb-4255-8caf-4136c566a962".into(),
        aud: Audience::from("https://permits.example/api"),
        exp: NOW + 600,
        iat: NOW,
        jti: "Yq0lQ9mM3QAbhXZ5kSxwYB9Xs6Vq3bq0Yv0Jw3mZC1E".into(),
        client_id: "f1b3c6a0-9d2e-4c7a-8e5f-0a1b2c3d4e5f".into(),
        scope: "openid email profile".into(),
        auth_time: Some(NOW),
        gid: "0c8d7e2f-5a4b-4c3d-9e8f-7a6b5c4d3e2f".into(),
    }
}

fn signing(c: &mut Criterion) {
    let keys = KeySet::from_keys(vec![
        SigningKey::generate(Algorithm::Rs256, NOW).unwrap(),
        SigningKey::generate(Algorithm::Es256, NOW).unwrap(),
    ])
    .unwrap();
    let claims = claims();
    for alg in Algorithm::ALL {
        let signer = keys.signer(alg);
        c.bench_function(&format!("access_token_sign_{alg}"), |b| {
            b.iter(|| signer.sign_jwt(ACCESS_TOKEN_TYP, black_box(&claims)).unwrap())
        });
        let token = signer.sign_jwt(ACCESS_TOKEN_TYP, &claims).unwrap();
        c.bench_function(&format!("access_token_verify_{alg}"), |b| {
            b.iter(|| {
                keys.verify::<AccessTokenClaims>(black_box(&token), ACCESS_TOKEN_TYP, ISSUER, NOW).unwrap()
            })
        });
    }
}

criterion_group!(benches, signing);
criterion_main!(benches);
