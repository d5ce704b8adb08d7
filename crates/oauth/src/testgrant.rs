//! Fixtures for the unit tests of the grants, revocation and introspection: one key set, the
//! deployment settings, and a stored code from a real authorization request.

use std::sync::OnceLock;

use tokens::{Algorithm, KeySet};

use crate::authorize::{AuthorizationParams, CodeGrant, validate};
use crate::error::ErrorCode;
use crate::store::{Client, CodeStore, GrantId};
use crate::testutil::{CHALLENGE, MemStore, VERIFIER};
use crate::token::{TokenGrantError, TokenParams, TokenResponse, TokenSettings, grant};

pub const ISS: &str = "https://id.example.org";
pub const NOW: i64 = 1_700_000_000;
pub const REDIRECT: &str = "https://portal.example.org/cb?tenant=atl";

/// One key set for every test: RSA key generation is slow.
pub fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys = Algorithm::ALL.map(|alg| tokens::SigningKey::generate(alg, NOW).unwrap());
        KeySet::from_keys(keys.into()).unwrap()
    })
}

pub fn settings() -> TokenSettings {
    TokenSettings {
        issuer: ISS.into(),
        access_token_ttl: 600,
        id_token_ttl: 300,
        access_token_alg: Algorithm::Es256,
        refresh_token_idle_ttl: 3600,
        refresh_token_absolute_ttl: 10 * 3600,
    }
}

/// Runs an authorization request for `c` and stores the code (60 s), returning it.
pub fn stored_code(store: &MemStore, c: &Client, scope: &str, now: i64) -> (String, GrantId) {
    let params = AuthorizationParams {
        response_type: Some("code".into()),
        client_id: Some(c.id.as_str().into()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some(scope.into()),
        nonce: Some("n-0S6".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    };
    let req = validate(&params, c, REDIRECT.into()).unwrap();
    let grant = CodeGrant {
        subject: "acct-1".into(),
        session_id: "sid-1".into(),
        auth_time: now - 30,
        amr: vec!["pwd".into(), "mfa".into()],
        idp: None,
    };
    let (code, row) = req.issue_code(grant, now, 60);
    store.insert_code(&row).unwrap();
    (code.expose().to_owned(), row.grant_id)
}

/// The address every test token request comes from.
pub const IP: &str = "203.0.113.7";

pub fn token_params(code: &str) -> TokenParams {
    TokenParams {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(REDIRECT.into()),
        code_verifier: Some(VERIFIER.into()),
        ..Default::default()
    }
}

pub fn exchange(
    store: &MemStore,
    c: &Client,
    p: &TokenParams,
    now: i64,
) -> Result<TokenResponse, TokenGrantError> {
    grant(store, keys(), &settings(), c, p, now, Some(IP))
}

pub fn oauth_code(r: Result<TokenResponse, TokenGrantError>) -> ErrorCode {
    match r {
        Err(TokenGrantError::OAuth(e)) => e.code,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}
