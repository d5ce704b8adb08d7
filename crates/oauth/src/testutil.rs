//! Fixtures shared by this crate's unit tests.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use tokens::TokenHash;

use crate::store::{
    AuthorizationCode, Client, ClientId, CodeStore, GrantId, GrantStore, NewCode, Redeem, StoreError,
};

/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A confidential client `client-1` with two redirect URIs and scopes openid, profile, email.
pub fn client() -> Client {
    Client {
        id: ClientId::from_stored("client-1".into()),
        name: "Business licensing".into(),
        secret_hash: Some(TokenHash::of("s3cret")),
        redirect_uris: vec![
            "https://portal.example.org/cb?tenant=atl".into(),
            "http://127.0.0.1:8400/cb".into(),
        ],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: Vec::new(),
        created_at: 0,
    }
}

/// A public client `native-1`.
pub fn public_client() -> Client {
    Client {
        id: ClientId::from_stored("native-1".into()),
        secret_hash: None,
        token_endpoint_auth_method: "none".into(),
        ..client()
    }
}

/// Codes and revoked grants in memory, with the store's one-winner redemption.
#[derive(Default)]
pub struct MemStore {
    codes: Mutex<HashMap<TokenHash, (AuthorizationCode, bool)>>,
    revoked: Mutex<HashSet<GrantId>>,
}

impl CodeStore for MemStore {
    fn insert_code(&self, code: &NewCode) -> Result<(), StoreError> {
        self.codes.lock().unwrap().insert(code.code_hash.clone(), (code.clone(), false));
        Ok(())
    }

    fn redeem_code(&self, code_hash: &TokenHash, _now: i64) -> Result<Redeem, StoreError> {
        let mut codes = self.codes.lock().unwrap();
        Ok(match codes.get_mut(code_hash) {
            None => Redeem::Unknown,
            Some((code, true)) => Redeem::AlreadyUsed { grant_id: code.grant_id.clone() },
            Some((code, used)) => {
                *used = true;
                Redeem::Fresh(code.clone())
            }
        })
    }
}

impl GrantStore for MemStore {
    fn revoke_grant(&self, grant_id: &GrantId, _now: i64) -> Result<(), StoreError> {
        self.revoked.lock().unwrap().insert(grant_id.clone());
        Ok(())
    }

    fn is_grant_revoked(&self, grant_id: &GrantId) -> Result<bool, StoreError> {
        Ok(self.revoked.lock().unwrap().contains(grant_id))
    }
}
