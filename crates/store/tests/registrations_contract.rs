//! The registration store contract (`identity::RegistrationStore`,
//! [`Store::create_registration_with_mail`]) and clients' `extra_claims`: each suite function is
//! given a fresh, migrated [`Store`] and runs on a SQLite file (`sqlite::…`) and on a PostgreSQL
//! database (`postgres::…`), as in `contract.rs`. Races included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use common::Db;
use std::collections::BTreeMap;
use std::sync::Barrier;

use diesel::prelude::*;
use gatehouse_store::Store;
use identity::{
    Account, AccountId, AccountStore, CompleteRegistration, CreateAccount, Email, Imported, ImportedAccount,
    NewAccount, NewRegistration, PasswordHistoryStore, RegistrationStore,
};
use mail::{Outbox, OutgoingMessage};
use oauth::{Client, ClientId, ClientStore};
use tokens::TokenHash;

const RACERS: usize = 20;
const T0: i64 = 1_700_000_000;
const TTL: i64 = 86_400;

contract!(
    clients_keep_their_extra_claims,
    a_registration_and_its_mail_are_stored_together_and_expired_ones_are_swept,
    a_registration_is_live_until_it_expires,
    completing_a_registration_creates_a_verified_account_with_its_password_in_the_history,
    a_link_completes_once_and_not_after_it_expires,
    a_registration_claims_an_imported_account_and_keeps_its_attributes,
    twenty_parallel_completions_for_one_email_create_one_account,
    importing_skips_existing_emails_and_is_one_transaction,
);

mod peek {
    diesel::table! {
        accounts (id) {
            id -> Text,
            imported -> Bool,
        }
    }
}

/// `accounts.imported` of `id`, read on a connection of its own (the API does not show it).
fn imported(db: &Db, id: &AccountId) -> Option<bool> {
    let query = peek::accounts::table.find(id.as_str()).select(peek::accounts::imported);
    match db.url.strip_prefix("sqlite://") {
        Some(path) => query.first(&mut SqliteConnection::establish(path).unwrap()).optional().unwrap(),
        None => query.first(&mut PgConnection::establish(&db.url).unwrap()).optional().unwrap(),
    }
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn registration(
    secret: &str,
    to: &str,
    given: &str,
    family: &str,
    password: &str,
    now: i64,
) -> NewRegistration {
    NewRegistration {
        code_hash: TokenHash::of(secret),
        email: email(to),
        given_name: given.into(),
        family_name: family.into(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${password}"),
        created_at: now,
        expires_at: now + TTL,
    }
}

fn betty(secret: &str, now: i64) -> NewRegistration {
    registration(secret, "betty@example.org", "Betty", "Rubble", "YmV0dHk", now)
}

fn message(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: to.into(),
        subject: "Verify your email".into(),
        text: "Follow https://id.example/verify#x to finish signing up.".into(),
        html: "<p>Follow the link to finish signing up.</p>".into(),
    }
}

/// Stores `reg` with its mail and returns the outbox id.
fn register(store: &Store, reg: &NewRegistration, now: i64) -> String {
    store.create_registration_with_mail(reg, &message(reg.email.as_str()), now).unwrap()
}

fn complete(store: &Store, reg: &NewRegistration, now: i64) -> Option<CompleteRegistration> {
    store.complete_registration(&reg.code_hash, &AccountId::generate(), now).unwrap()
}

fn imported_account(to: &str, attributes: &[(&str, &str)]) -> ImportedAccount {
    ImportedAccount {
        id: AccountId::generate(),
        email: email(to),
        given_name: Some("Bettina".into()),
        family_name: None,
        name: Some("Bettina".into()),
        phone_number: Some("+47 400 00 000".into()),
        attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        created_at: T0 - 1000,
    }
}

fn clients_keep_their_extra_claims(store: &Store) {
    let portal = Client {
        id: ClientId::generate(),
        name: "Licensing".into(),
        secret_hash: Some(TokenHash::of("client secret")),
        redirect_uris: vec!["https://licensing.example/cb".into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec!["license_no".into(), "legacy_id".into()],
        created_at: T0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party: true,
        require_pushed_authorization_requests: false,
    };
    let plain =
        Client { id: ClientId::generate(), name: "Plain".into(), extra_claims: vec![], ..portal.clone() };
    store.insert_client(&portal).unwrap();
    store.insert_client(&plain).unwrap();
    assert_eq!(store.find_client(&portal.id).unwrap(), Some(portal.clone()));
    assert_eq!(store.find_client(&plain.id).unwrap(), Some(plain.clone()));
    assert_eq!(store.list_clients().unwrap(), vec![portal, plain]);
}

fn a_registration_and_its_mail_are_stored_together_and_expired_ones_are_swept(store: &Store) {
    let first = betty("first link", T0);
    let id = register(store, &first, T0);
    assert_eq!(store.outbox_status(&id).unwrap(), Some(("pending".into(), 0)));
    let queued = store.claim_due(T0, 120, 10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!((&queued[0].id, &queued[0].message), (&id, &message("betty@example.org")));
    assert!(store.peek_registration(&first.code_hash, T0).unwrap());

    // The same link twice: the registration's insert fails, and the outbox row goes with it.
    assert!(store.create_registration_with_mail(&first, &message("betty@example.org"), T0 + 1).is_err());
    assert_eq!(store.claim_due(T0 + 100_000, 120, 10).unwrap().len(), 1, "only the first message");

    // A later sign-up sweeps registrations expired by then, not live ones.
    let live = betty("live link", T0 + 10);
    register(store, &live, T0 + 10);
    let sweeper = registration("sweeper", "fred@example.org", "Fred", "Flint", "ZnJlZA", T0 + TTL);
    register(store, &sweeper, T0 + TTL);
    assert!(!store.peek_registration(&first.code_hash, T0).unwrap(), "swept, not merely expired");
    assert!(store.peek_registration(&live.code_hash, T0 + TTL).unwrap());
}

fn a_registration_is_live_until_it_expires(store: &Store) {
    let reg = betty("peeked link", T0);
    register(store, &reg, T0);
    assert!(store.peek_registration(&reg.code_hash, T0).unwrap());
    assert!(store.peek_registration(&reg.code_hash, reg.expires_at - 1).unwrap());
    assert!(!store.peek_registration(&reg.code_hash, reg.expires_at).unwrap());
    assert!(!store.peek_registration(&TokenHash::of("unknown link"), T0).unwrap());
    assert!(store.peek_registration(&reg.code_hash, T0 + 1).unwrap(), "peeking uses nothing");
}

fn completing_a_registration_creates_a_verified_account_with_its_password_in_the_history(db: &Db) {
    let reg = betty("new account", T0);
    register(db, &reg, T0);
    let id = AccountId::generate();
    let outcome = db.complete_registration(&reg.code_hash, &id, T0 + 60).unwrap();
    let expected = Account {
        id: id.clone(),
        email: email("betty@example.org"),
        email_verified: true,
        name: Some("Betty Rubble".into()),
        given_name: Some("Betty".into()),
        family_name: Some("Rubble".into()),
        phone_number: None,
        password_hash: Some(reg.password_hash.clone()),
        created_at: T0 + 60,
        updated_at: T0 + 60,
    };
    assert_eq!(outcome, Some(CompleteRegistration::Created(expected.clone())));
    assert_eq!(db.find_account(&id).unwrap(), Some(expected));
    assert_eq!(db.password_history(&id, 10).unwrap(), vec![reg.password_hash.clone()]);
    assert_eq!(imported(db, &id), Some(false));
    assert_eq!(db.account_attributes(&id).unwrap(), BTreeMap::new());
    assert!(!db.peek_registration(&reg.code_hash, T0 + 61).unwrap(), "the link is used");
}

fn a_link_completes_once_and_not_after_it_expires(store: &Store) {
    let reg = betty("once", T0);
    register(store, &reg, T0);
    assert!(matches!(complete(store, &reg, T0 + 1), Some(CompleteRegistration::Created(_))));
    assert_eq!(complete(store, &reg, T0 + 2), None, "used");

    let late = registration("late", "fred@example.org", "Fred", "Flint", "ZnJlZA", T0);
    register(store, &late, T0);
    assert_eq!(complete(store, &late, late.expires_at), None, "expired");
    assert_eq!(store.find_account_by_email(&late.email).unwrap(), None);
    assert_eq!(complete(store, &betty("never issued", T0), T0 + 1), None, "unknown");
    assert_eq!(store.list_accounts(10, 0).unwrap().len(), 1);
}

fn a_registration_claims_an_imported_account_and_keeps_its_attributes(db: &Db) {
    let legacy = imported_account("betty@example.org", &[("license_no", "L-1234"), ("legacy_id", "77")]);
    assert_eq!(db.import_accounts(std::slice::from_ref(&legacy)).unwrap(), vec![Imported::Created]);
    assert_eq!(imported(db, &legacy.id), Some(true));
    let before = db.find_account(&legacy.id).unwrap().unwrap();
    assert_eq!((before.email_verified, before.password_hash.as_deref()), (false, None));

    let reg = betty("claim", T0);
    register(db, &reg, T0);
    let outcome = db.complete_registration(&reg.code_hash, &AccountId::generate(), T0 + 60).unwrap();
    let claimed = Account {
        email_verified: true,
        name: Some("Betty Rubble".into()),
        given_name: Some("Betty".into()),
        family_name: Some("Rubble".into()),
        password_hash: Some(reg.password_hash.clone()),
        updated_at: T0 + 60,
        ..before
    };
    assert_eq!(claimed.id, legacy.id);
    assert_eq!(claimed.phone_number.as_deref(), Some("+47 400 00 000"), "imported data kept");
    assert_eq!(outcome, Some(CompleteRegistration::Claimed(claimed.clone())));
    assert_eq!(db.find_account(&legacy.id).unwrap(), Some(claimed.clone()));
    assert_eq!(db.account_attributes(&legacy.id).unwrap(), legacy.attributes);
    assert_eq!(db.password_history(&legacy.id, 10).unwrap(), vec![reg.password_hash.clone()]);
    assert_eq!(imported(db, &legacy.id), Some(false));

    // A second sign-up for the address finds it in use: nothing changes.
    let again = registration("again", "betty@example.org", "Evil", "Twin", "ZXZpbA", T0 + 100);
    register(db, &again, T0 + 100);
    assert_eq!(complete(db, &again, T0 + 160), Some(CompleteRegistration::AlreadyActive));
    assert_eq!(db.find_account(&legacy.id).unwrap(), Some(claimed));
    assert_eq!(db.password_history(&legacy.id, 10).unwrap(), vec![reg.password_hash]);
    assert_eq!(db.list_accounts(10, 0).unwrap().len(), 1);
    assert!(!db.peek_registration(&again.code_hash, T0 + 161).unwrap(), "its link is used up");

    // An account created the ordinary way (no import) is never claimed either.
    let ordinary = NewAccount {
        id: AccountId::generate(),
        email: email("fred@example.org"),
        email_verified: false,
        name: None,
        given_name: None,
        family_name: None,
        phone_number: None,
        password_hash: None,
        created_at: T0,
    };
    assert!(matches!(db.create_account(&ordinary).unwrap(), CreateAccount::Created(_)));
    let fred = registration("fred", "fred@example.org", "Fred", "Flint", "ZnJlZA", T0);
    register(db, &fred, T0);
    assert_eq!(complete(db, &fred, T0 + 1), Some(CompleteRegistration::AlreadyActive));
    assert_eq!(db.find_account(&ordinary.id).unwrap().unwrap().password_hash, None);
}

/// Runs `f(i)` for `i` in `0..n` on `n` threads released together; returns what each returned.
fn race_n<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let start = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (start, f) = (&start, &f);
                s.spawn(move || {
                    start.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn twenty_parallel_completions_for_one_email_create_one_account(store: &Store) {
    let regs: Vec<NewRegistration> = (0..RACERS).map(|i| betty(&format!("racer {i}"), T0)).collect();
    for reg in &regs {
        register(store, reg, T0);
    }
    let outcomes =
        race_n(RACERS, |i| store.complete_registration(&regs[i].code_hash, &AccountId::generate(), T0 + 1));
    let outcomes: Vec<CompleteRegistration> = outcomes.into_iter().map(|o| o.unwrap().unwrap()).collect();
    let created: Vec<&Account> = outcomes
        .iter()
        .filter_map(|o| match o {
            CompleteRegistration::Created(a) => Some(a),
            _ => None,
        })
        .collect();
    let active = outcomes.iter().filter(|o| **o == CompleteRegistration::AlreadyActive).count();
    assert_eq!((created.len(), active), (1, RACERS - 1), "{outcomes:?}");
    assert_eq!(store.list_accounts(100, 0).unwrap(), vec![created[0].clone()]);
    assert_eq!(store.password_history(&created[0].id, 100).unwrap().len(), 1);
}

fn importing_skips_existing_emails_and_is_one_transaction(db: &Db) {
    let existing = betty("existing", T0);
    register(db, &existing, T0);
    let Some(CompleteRegistration::Created(betty)) = complete(db, &existing, T0 + 1) else {
        panic!("not created")
    };
    let fred = imported_account("fred@example.org", &[("license_no", "L-1")]);
    let clash = imported_account("betty@example.org", &[("license_no", "L-2")]);
    let twice = imported_account("fred@example.org", &[("license_no", "L-3")]);
    let wilma = imported_account("wilma@example.org", &[]);
    let outcomes = db.import_accounts(&[fred.clone(), clash.clone(), twice.clone(), wilma.clone()]).unwrap();
    assert_eq!(outcomes, [Imported::Created, Imported::Exists, Imported::Exists, Imported::Created]);
    assert_eq!(db.find_account(&betty.id).unwrap(), Some(betty.clone()), "left as it was");
    assert_eq!(db.find_account(&clash.id).unwrap(), None);
    assert_eq!(db.find_account(&twice.id).unwrap(), None);
    assert_eq!(db.account_attributes(&betty.id).unwrap(), BTreeMap::new());
    assert_eq!(db.account_attributes(&fred.id).unwrap(), fred.attributes);
    let stored = db.find_account(&fred.id).unwrap().unwrap();
    assert_eq!(
        (stored.email_verified, stored.password_hash, stored.given_name, stored.phone_number),
        (false, None, fred.given_name.clone(), fred.phone_number.clone())
    );
    assert_eq!((imported(db, &fred.id), imported(db, &wilma.id)), (Some(true), Some(true)));

    // A row that fails (its id is taken) fails the whole import: the rows before it are gone too.
    let barney = imported_account("barney@example.org", &[("license_no", "L-4")]);
    let broken = ImportedAccount { id: fred.id.clone(), ..imported_account("dino@example.org", &[]) };
    assert!(db.import_accounts(&[barney.clone(), broken]).is_err());
    assert_eq!(db.find_account(&barney.id).unwrap(), None);
    assert_eq!(db.find_account_by_email(&email("dino@example.org")).unwrap(), None);
    assert_eq!(db.account_attributes(&barney.id).unwrap(), BTreeMap::new());
    assert_eq!(db.list_accounts(100, 0).unwrap().len(), 3);
    assert_eq!(db.import_accounts(&[]).unwrap(), Vec::<Imported>::new());
}
