//! The store contract: one suite of functions, each given a fresh, migrated [`Store`], run on a
//! SQLite file (`sqlite::…`) and on a PostgreSQL database (`postgres::…`). Races included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

use std::sync::Barrier;
use std::time::{Duration, Instant};

use gatehouse_store::Store;
use identity::{AccountId, AccountStore, CreateAccount, Email, NewAccount, NewSession, SessionStore};
use oauth::{Client, ClientId, ClientStore, CodeStore, GrantId, GrantStore, NewCode, Redeem};
use tokens::{KeyStore, StoredKey, TokenHash};

const POOL_SIZE: u32 = 8;
const RACERS: usize = 50;

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                let (_dir, store) = super::sqlite_store();
                super::$test(&store);
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                super::$test(&super::postgres_store());
            })*
        }
    };
}

contract!(
    store_answers_ping,
    keys_are_listed_oldest_first_and_a_known_kid_is_left_alone,
    accounts_are_found_by_id_and_email_and_listed_by_email,
    a_second_account_with_a_taken_email_is_email_taken,
    sessions_are_found_until_they_expire_or_are_deleted,
    clients_are_listed_by_name_and_deleted_with_their_codes,
    a_code_is_fresh_once_then_already_used,
    revoking_a_grant_twice_is_fine,
    fifty_parallel_redemptions_of_one_code_have_one_winner,
    fifty_parallel_sign_ups_with_one_email_create_one_account,
);

/// A migrated store on a SQLite file in a directory that does not exist yet.
fn sqlite_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/gatehouse.db", dir.path().display());
    let store = Store::connect(&url, POOL_SIZE).unwrap();
    store.migrate().unwrap();
    (dir, store)
}

/// A migrated store on a new, empty PostgreSQL database.
fn postgres_store() -> Store {
    let store = Store::connect(&testkit::fresh_database_url(), POOL_SIZE).unwrap();
    store.migrate().unwrap();
    store
}

fn new_account(email: &str) -> NewAccount {
    NewAccount {
        id: AccountId::generate(),
        email: Email::parse(email).unwrap(),
        email_verified: false,
        name: Some("Ole Mae".into()),
        given_name: Some("Ole".into()),
        family_name: None,
        phone_number: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_at: 1_700_000_000,
    }
}

fn created(outcome: CreateAccount) -> identity::Account {
    match outcome {
        CreateAccount::Created(account) => account,
        CreateAccount::EmailTaken => panic!("email reported taken"),
    }
}

fn client(name: &str) -> Client {
    Client {
        id: ClientId::generate(),
        name: name.into(),
        secret_hash: Some(TokenHash::of("client secret")),
        redirect_uris: vec!["https://portal.example/cb".into(), "https://portal.example/cb2".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        id_token_signed_response_alg: "RS256".into(),
        created_at: 1_700_000_000,
    }
}

fn code(client: &Client, secret: &str) -> NewCode {
    NewCode {
        code_hash: TokenHash::of(secret),
        grant_id: GrantId::generate(),
        client_id: client.id.clone(),
        redirect_uri: client.redirect_uris[0].clone(),
        subject: AccountId::generate().to_string(),
        scope: "openid email".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        auth_time: 1_700_000_000,
        amr: vec!["pwd".into()],
        session_id: "sid-1".into(),
        created_at: 1_700_000_000,
        expires_at: 1_700_000_060,
    }
}

fn store_answers_ping(store: &Store) {
    store.ping().unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()));
    assert!(store.describe().starts_with(store.backend()));
}

fn keys_are_listed_oldest_first_and_a_known_kid_is_left_alone(store: &Store) {
    assert_eq!(store.list_keys().unwrap(), vec![]);
    let newer = StoredKey {
        kid: "b".into(),
        alg: "ES256".into(),
        sealed_private_key: vec![0, 1, 255],
        created_at: 20,
    };
    let older =
        StoredKey { kid: "a".into(), alg: "RS256".into(), sealed_private_key: vec![9; 1200], created_at: 10 };
    store.insert_key(&newer).unwrap();
    store.insert_key(&older).unwrap();
    let impostor =
        StoredKey { alg: "RS256".into(), sealed_private_key: vec![7], created_at: 30, ..newer.clone() };
    store.insert_key(&impostor).unwrap();
    assert_eq!(store.list_keys().unwrap(), vec![older, newer]);
}

fn accounts_are_found_by_id_and_email_and_listed_by_email(store: &Store) {
    let zoe = created(store.create_account(&new_account("zoe@example.org")).unwrap());
    let new_ann = NewAccount {
        email_verified: true,
        phone_number: Some("+4712345678".into()),
        ..new_account("ann@example.org")
    };
    let ann = created(store.create_account(&new_ann).unwrap());
    assert_eq!(ann.id, new_ann.id);
    assert_eq!(ann.email.as_str(), "ann@example.org");
    assert!(ann.email_verified);
    assert_eq!(ann.phone_number.as_deref(), Some("+4712345678"));
    assert_eq!(ann.password_hash, new_ann.password_hash);
    assert_eq!((ann.created_at, ann.updated_at), (1_700_000_000, 1_700_000_000));

    assert_eq!(store.find_account(&zoe.id).unwrap(), Some(zoe.clone()));
    assert_eq!(store.find_account_by_email(&ann.email).unwrap(), Some(ann.clone()));
    assert_eq!(store.find_account(&AccountId::generate()).unwrap(), None);
    assert_eq!(store.find_account_by_email(&Email::parse("nobody@example.org").unwrap()).unwrap(), None);

    let bob = created(store.create_account(&new_account("bob@example.org")).unwrap());
    assert_eq!(store.list_accounts(10, 0).unwrap(), vec![ann.clone(), bob.clone(), zoe.clone()]);
    assert_eq!(store.list_accounts(1, 1).unwrap(), vec![bob]);
    assert_eq!(store.list_accounts(10, 3).unwrap(), vec![]);
}

fn a_second_account_with_a_taken_email_is_email_taken(store: &Store) {
    let first = created(store.create_account(&new_account("ole@example.org")).unwrap());
    // The domain normalises case before the store sees it.
    let again = new_account(" Ole@Example.ORG ");
    assert_eq!(store.create_account(&again).unwrap(), CreateAccount::EmailTaken);
    assert_eq!(store.find_account(&again.id).unwrap(), None);
    assert_eq!(store.list_accounts(10, 0).unwrap(), vec![first]);
}

fn sessions_are_found_until_they_expire_or_are_deleted(store: &Store) {
    let account = created(store.create_account(&new_account("ole@example.org")).unwrap());
    let session = NewSession {
        id: "sid-1".into(),
        token_hash: TokenHash::of("cookie secret"),
        account_id: account.id.clone(),
        auth_time: 1_000,
        amr: vec!["pwd".into(), "otp".into()],
        persistent: true,
        created_at: 1_000,
        expires_at: 2_000,
    };
    store.create_session(&session).unwrap();
    let found = store.find_session(&session.token_hash, 1_999).unwrap().unwrap();
    assert_eq!(found.id, "sid-1");
    assert_eq!(found.account_id, account.id);
    assert_eq!(found.amr, vec!["pwd".to_owned(), "otp".to_owned()]);
    assert!(found.persistent);
    assert_eq!((found.auth_time, found.created_at, found.expires_at), (1_000, 1_000, 2_000));

    assert_eq!(store.find_session(&session.token_hash, 2_000).unwrap(), None, "expired at expires_at");
    assert_eq!(store.find_session(&TokenHash::of("other secret"), 1_500).unwrap(), None);
    store.delete_session(&session.token_hash).unwrap();
    assert_eq!(store.find_session(&session.token_hash, 1_500).unwrap(), None);
    store.delete_session(&session.token_hash).unwrap();
}

fn clients_are_listed_by_name_and_deleted_with_their_codes(store: &Store) {
    let portal = client("Portal");
    let library = Client {
        secret_hash: None,
        token_endpoint_auth_method: "none".into(),
        post_logout_redirect_uris: vec!["https://library.example/".into()],
        ..client("Library")
    };
    store.insert_client(&portal).unwrap();
    store.insert_client(&library).unwrap();
    assert_eq!(store.find_client(&portal.id).unwrap(), Some(portal.clone()));
    assert_eq!(store.find_client(&library.id).unwrap(), Some(library.clone()));
    assert_eq!(store.find_client(&ClientId::generate()).unwrap(), None);
    assert_eq!(store.list_clients().unwrap(), vec![library.clone(), portal.clone()]);

    let issued = code(&portal, "code of a deleted client");
    store.insert_code(&issued).unwrap();
    assert!(store.delete_client(&portal.id).unwrap());
    assert!(!store.delete_client(&portal.id).unwrap());
    assert_eq!(store.list_clients().unwrap(), vec![library]);
    assert_eq!(store.redeem_code(&issued.code_hash, 1_700_000_001).unwrap(), Redeem::Unknown);
}

fn a_code_is_fresh_once_then_already_used(store: &Store) {
    let portal = client("Portal");
    store.insert_client(&portal).unwrap();
    let issued = code(&portal, "the code");
    store.insert_code(&issued).unwrap();
    assert_eq!(store.redeem_code(&issued.code_hash, 1_700_000_001).unwrap(), Redeem::Fresh(issued.clone()));
    assert_eq!(
        store.redeem_code(&issued.code_hash, 1_700_000_002).unwrap(),
        Redeem::AlreadyUsed { grant_id: issued.grant_id.clone() }
    );
    assert_eq!(store.redeem_code(&TokenHash::of("never issued"), 1_700_000_003).unwrap(), Redeem::Unknown);
    let public = NewCode { nonce: None, amr: vec![], ..code(&portal, "another code") };
    store.insert_code(&public).unwrap();
    assert_eq!(store.redeem_code(&public.code_hash, 1_700_000_004).unwrap(), Redeem::Fresh(public));
}

fn revoking_a_grant_twice_is_fine(store: &Store) {
    let grant = GrantId::generate();
    assert!(!store.is_grant_revoked(&grant).unwrap());
    store.revoke_grant(&grant, 10).unwrap();
    store.revoke_grant(&grant, 20).unwrap();
    assert!(store.is_grant_revoked(&grant).unwrap());
    assert!(!store.is_grant_revoked(&GrantId::generate()).unwrap());
}

/// Runs `f` on [`RACERS`] threads released together; returns what each returned.
fn race<T: Send>(f: impl Fn() -> T + Sync) -> Vec<T> {
    let start = Barrier::new(RACERS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn fifty_parallel_redemptions_of_one_code_have_one_winner(store: &Store) {
    let portal = client("Portal");
    store.insert_client(&portal).unwrap();
    let issued = code(&portal, "raced code");
    store.insert_code(&issued).unwrap();
    let outcomes = race(|| store.redeem_code(&issued.code_hash, 1_700_000_001).unwrap());
    let fresh = outcomes.iter().filter(|o| **o == Redeem::Fresh(issued.clone())).count();
    let used = Redeem::AlreadyUsed { grant_id: issued.grant_id.clone() };
    let already = outcomes.iter().filter(|o| **o == used).count();
    assert_eq!((fresh, already), (1, RACERS - 1), "{outcomes:?}");
}

fn fifty_parallel_sign_ups_with_one_email_create_one_account(store: &Store) {
    let outcomes = race(|| store.create_account(&new_account("popular@example.org")).unwrap());
    let winners: Vec<_> = outcomes.iter().filter(|o| matches!(o, CreateAccount::Created(_))).collect();
    let taken = outcomes.iter().filter(|o| **o == CreateAccount::EmailTaken).count();
    assert_eq!((winners.len(), taken), (1, RACERS - 1));
    assert_eq!(store.list_accounts(10, 0).unwrap().len(), 1);
}

#[test]
fn both_backends_have_the_same_migrations_in_the_same_order() {
    let names = |backend: &str| {
        let dir = format!("{}/../../migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

#[test]
fn an_unsupported_scheme_names_the_supported_ones() {
    let message = Store::connect("mysql://x", 1).unwrap_err().to_string();
    assert!(message.contains("mysql://x"), "{message}");
    assert!(message.contains("sqlite://") && message.contains("postgres://"), "{message}");
}

#[test]
fn an_unreachable_postgres_fails_fast_with_the_cause() {
    // Port 1 on loopback: nothing listens there, so the connect is refused at once.
    let started = Instant::now();
    let message =
        Store::connect("postgres://gatehouse:hunter2@127.0.0.1:1/gatehouse", 2).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(
        message.starts_with("cannot open database postgres://gatehouse:***@127.0.0.1:1/gatehouse:"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("hunter2") && !message.contains('\n'), "{message}");
}
