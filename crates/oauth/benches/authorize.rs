//! The pure steps of an authorization request and a code exchange: parsing the query,
//! resolving the redirect URI, validating the request (OIDC Core §3.1.2.1) and the PKCE check
//! (RFC 7636 §4.6).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark fails loudly")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_oauth::{AuthorizationParams, Client, ClientId, authorize, pkce};
use tokens::TokenHash;

const QUERY: &str = "response_type=code&client_id=client-1&redirect_uri=https%3A%2F%2Fportal.example.org%2Fcb\
    &scope=openid%20email%20profile&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj\
    &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&prompt=none";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client() -> Client {
    Client {
        id: ClientId::from_stored("client-1".into()),
        name: "Business licensing".into(),
        secret_hash: Some(TokenHash::of("s3cret")),
        redirect_uris: vec!["https://portal.example.org/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "profile".into(), "email".into(), "offline_access".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: Vec::new(),
        created_at: 0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: Vec::new(),
        backchannel_logout_uri: None,
        first_party: true,
        require_pushed_authorization_requests: false,
    }
}

fn authorization_request(c: &mut Criterion) {
    let client = client();
    c.bench_function("authorize_parse_and_validate", |b| {
        b.iter(|| {
            let params: AuthorizationParams = serde_urlencoded::from_str(black_box(QUERY)).unwrap();
            let redirect = authorize::resolve_redirect(&params, Some(&client)).unwrap();
            authorize::validate(&params, &client, redirect).unwrap()
        })
    });
    c.bench_function("pkce_verify_s256", |b| {
        b.iter(|| assert!(pkce::verify(black_box(VERIFIER), black_box(CHALLENGE))))
    });
}

criterion_group!(benches, authorization_request);
criterion_main!(benches);
