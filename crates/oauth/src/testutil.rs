//! Fixtures shared by this crate's unit tests.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use tokens::TokenHash;

use crate::store::{
    AuthorizationCode, Client, ClientId, CodeStore, GrantId, GrantStore, Issuance, NewCode, NewRefreshToken,
    Redeem, RefreshState, RefreshToken, RefreshTokenStore, Rotation, StoreError, SubjectStanding,
    SubjectStore,
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
        backchannel_logout_uri: None,
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: Vec::new(),
        created_at: 0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: Vec::new(),
        first_party: true,
        require_pushed_authorization_requests: false,
    }
}

/// A public client `native-1`.
pub fn public_client() -> Client {
    Client {
        id: ClientId::from_stored("native-1".into()),
        secret_hash: None,
        token_endpoint_auth_method: "none".into(),
        keys: Default::default(),
        ..client()
    }
}

/// Codes, refresh tokens, revoked grants and account standings in memory, with the store's
/// one-winner redemption and rotation. A subject not in `subjects` is active.
#[derive(Default)]
pub struct MemStore {
    codes: Mutex<HashMap<TokenHash, (AuthorizationCode, bool)>>,
    revoked: Mutex<HashSet<GrantId>>,
    refresh: Mutex<HashMap<TokenHash, RefreshToken>>,
    pub subjects: Mutex<HashMap<String, SubjectStanding>>,
    /// Every issuance filed, in order.
    pub issued: Mutex<Vec<Issuance>>,
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

    fn grant_claims(&self, grant_id: &GrantId) -> Result<Option<String>, StoreError> {
        let codes = self.codes.lock().unwrap();
        Ok(codes.values().find(|(c, _)| &c.grant_id == grant_id).and_then(|(c, _)| c.claims.clone()))
    }

    fn record_issuance(&self, issued: &Issuance) -> Result<(), StoreError> {
        self.issued.lock().unwrap().push(issued.clone());
        Ok(())
    }
}

impl RefreshTokenStore for MemStore {
    fn insert_refresh_token(&self, token: &NewRefreshToken, issued: &Issuance) -> Result<(), StoreError> {
        let row = RefreshToken { token: token.clone(), used_at: None };
        self.refresh.lock().unwrap().insert(token.token_hash.clone(), row);
        self.record_issuance(issued)
    }

    fn find_refresh_token(&self, token_hash: &TokenHash) -> Result<Option<RefreshToken>, StoreError> {
        Ok(self.refresh.lock().unwrap().get(token_hash).cloned())
    }

    fn refresh_state(&self, token_hash: &TokenHash, now: i64) -> Result<Option<RefreshState>, StoreError> {
        let Some(token) = self.find_refresh_token(token_hash)? else {
            return Ok(None);
        };
        Ok(Some(RefreshState {
            grant_revoked: self.is_grant_revoked(&token.token.grant_id)?,
            standing: self.subject_standing(&token.token.subject, now)?,
            claims: self.grant_claims(&token.token.grant_id)?,
            token,
        }))
    }

    fn rotate_refresh_token(
        &self,
        old: &TokenHash,
        next: &NewRefreshToken,
        now: i64,
        issued: &Issuance,
    ) -> Result<Rotation, StoreError> {
        let mut all = self.refresh.lock().unwrap();
        match all.get_mut(old) {
            None => Ok(Rotation::Unknown),
            Some(row) if row.used_at.is_some() => Ok(Rotation::AlreadyUsed),
            Some(row) => {
                row.used_at = Some(now);
                all.insert(next.token_hash.clone(), RefreshToken { token: next.clone(), used_at: None });
                self.record_issuance(issued)?;
                Ok(Rotation::Rotated)
            }
        }
    }
}

impl SubjectStore for MemStore {
    fn subject_standing(&self, subject: &str, _now: i64) -> Result<SubjectStanding, StoreError> {
        let known = self.subjects.lock().unwrap().get(subject).copied();
        Ok(known.unwrap_or(SubjectStanding::Active { tokens_revoked_at: None }))
    }

    /// Every subject is Ada, with an email and no phone.
    fn subject_profile(&self, subject: &str) -> Result<Option<crate::claims::Profile>, StoreError> {
        Ok(Some(crate::claims::Profile {
            sub: subject.to_owned(),
            name: Some("Ada Lovelace".into()),
            given_name: None,
            family_name: None,
            email: "ada@example.org".into(),
            email_verified: true,
            phone_number: None,
            updated_at: 1,
        }))
    }
}
