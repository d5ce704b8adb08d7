//! The harness every store contract suite shares: a fresh, migrated store on a SQLite file (in a
//! directory that does not exist yet) or on a new PostgreSQL database, and the macro that runs
//! each suite function on both.

use std::ops::Deref;

use gatehouse_store::Store;

pub const POOL_SIZE: u32 = 8;

/// Runs each suite function `fn name(db: &Db)` (or `&Store`) as `sqlite::name` and
/// `postgres::name`.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test(&$crate::common::sqlite_store());
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                super::$test(&$crate::common::postgres_store());
            })*
        }
    };
}

/// A migrated store, with its URL for a second pool or a look at a column the API hides.
pub struct Db {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for Db {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl Db {
    /// Another pool on the same database, as a second node would have.
    #[allow(dead_code, reason = "not every suite runs two nodes")]
    pub fn another_node(&self) -> Store {
        Store::connect(&self.url, POOL_SIZE).unwrap()
    }
}

pub fn sqlite_store() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/gatehouse.db", dir.path().display());
    let store = Store::connect(&url, POOL_SIZE).unwrap();
    store.migrate().unwrap();
    Db { store, url, _dir: Some(dir) }
}

pub fn postgres_store() -> Db {
    let url = testkit::fresh_database_url();
    let store = Store::connect(&url, POOL_SIZE).unwrap();
    store.migrate().unwrap();
    Db { store, url, _dir: None }
}

/// A verified account with `email` and no password, created at `created_at`.
#[allow(dead_code, reason = "not every suite creates accounts")]
pub fn account(store: &Store, email: &str, created_at: i64) -> identity::AccountId {
    use identity::{AccountStore, CreateAccount, Email, NewAccount};
    let new = NewAccount {
        id: identity::AccountId::generate(),
        email: Email::parse(email).unwrap(),
        email_verified: true,
        name: None,
        given_name: None,
        family_name: None,
        phone_number: None,
        password_hash: None,
        created_at,
    };
    match store.create_account(&new).unwrap() {
        CreateAccount::Created(a) => a.id,
        CreateAccount::EmailTaken => panic!("email taken"),
    }
}

/// A confidential portal allowed the code and refresh grants, created at `created_at`.
#[allow(dead_code, reason = "not every suite registers a client")]
pub fn portal_client(created_at: i64) -> oauth::Client {
    oauth::Client {
        id: oauth::ClientId::generate(),
        name: "Portal".into(),
        secret_hash: Some(tokens::TokenHash::of("client secret")),
        redirect_uris: vec!["https://portal.example/cb".into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "offline_access".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec![],
        created_at,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party: true,
        require_pushed_authorization_requests: false,
    }
}

/// An unused authorization code of `subject` for `client`, starting `grant`, issued at
/// `created_at` for 60 s.
#[allow(dead_code, reason = "not every suite issues codes")]
pub fn code(
    client: &oauth::Client,
    subject: &str,
    secret: &str,
    grant: &oauth::GrantId,
    created_at: i64,
) -> oauth::NewCode {
    oauth::NewCode {
        code_hash: tokens::TokenHash::of(secret),
        grant_id: grant.clone(),
        client_id: client.id.clone(),
        redirect_uri: client.redirect_uris[0].clone(),
        subject: subject.to_owned(),
        scope: "openid".into(),
        nonce: None,
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        auth_time: created_at,
        amr: vec!["pwd".into()],
        session_id: "sid-1".into(),
        idp: None,
        claims: None,
        created_at,
        expires_at: created_at + 60,
    }
}
