//! The profile and audit store contract (`identity::{ProfileStore, AuditStore}`): each suite
//! function is given a fresh, migrated [`Store`] and runs on a SQLite file (`sqlite::…`) and on
//! a PostgreSQL database (`postgres::…`), as in `contract.rs`.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use gatehouse_store::Store;
use identity::{
    Account, AccountId, AccountStore, AuditKind, AuditStore, CodeKind, Consume, CreateAccount, Email,
    IdleTimeout, LockoutPolicy, LockoutStore, NewAccount, NewAuditEvent, NewOneTimeCode, NewSession,
    OneTimeCodeStore, PasswordHistoryStore, ProfileField, ProfileStore, ProfileUpdate, Purpose, SessionStore,
};
use mail::{Outbox, OutgoingMessage};
use oauth::{Client, ClientId, ClientStore, CodeStore, GrantId, Redeem};
use serde_json::json;
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;

contract!(
    a_profile_update_is_stored_and_read_back,
    a_profile_update_of_a_missing_account_is_none,
    deleting_an_account_removes_what_hangs_off_it_and_frees_the_email,
    deleting_a_missing_account_is_false,
    audit_events_are_recorded_listed_newest_first_and_outlive_the_account,
    a_password_change_and_its_notice_are_stored_together,
);

fn new_account(email: &str) -> NewAccount {
    NewAccount {
        id: AccountId::generate(),
        email: Email::parse(email).unwrap(),
        email_verified: true,
        name: Some("Betty".into()),
        given_name: None,
        family_name: None,
        phone_number: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_at: T0,
    }
}

fn create(store: &Store, email: &str) -> Account {
    match store.create_account(&new_account(email)).unwrap() {
        CreateAccount::Created(account) => account,
        CreateAccount::EmailTaken => panic!("{email} reported taken"),
    }
}

fn a_profile_update_is_stored_and_read_back(store: &Store) {
    let betty = create(store, "betty@example.org");
    let other = create(store, "other@example.org");
    let update = ProfileUpdate::parse("Betty Rubble2020", "Betty", "Rubble", "(404) 546-0311").unwrap();
    let stored = store.update_profile(&betty.id, &update, T0 + 60).unwrap().unwrap();
    assert_eq!(stored.name.as_deref(), Some("Betty Rubble2020"));
    assert_eq!(stored.given_name.as_deref(), Some("Betty"));
    assert_eq!(stored.family_name.as_deref(), Some("Rubble"));
    assert_eq!(stored.phone_number.as_deref(), Some("(404) 546-0311"));
    assert_eq!((stored.created_at, stored.updated_at), (T0, T0 + 60));
    assert_eq!((stored.email.clone(), stored.password_hash.clone()), (betty.email, betty.password_hash));
    assert_eq!(store.find_account(&betty.id).unwrap(), Some(stored));

    // `None` clears a field.
    let cleared = store.update_profile(&betty.id, &ProfileUpdate::default(), T0 + 120).unwrap().unwrap();
    assert_eq!(
        (cleared.name, cleared.given_name, cleared.family_name, cleared.phone_number),
        (None, None, None, None)
    );
    assert_eq!(store.find_account(&other.id).unwrap(), Some(other), "other accounts are untouched");
}

fn a_profile_update_of_a_missing_account_is_none(store: &Store) {
    let nobody = AccountId::generate();
    assert_eq!(store.update_profile(&nobody, &ProfileUpdate::default(), T0).unwrap(), None);
    assert_eq!(store.find_account(&nobody).unwrap(), None);
}

fn session(id: &str, account: &AccountId) -> NewSession {
    NewSession {
        id: id.into(),
        token_hash: TokenHash::of(id),
        account_id: account.clone(),
        auth_time: T0,
        amr: vec!["pwd".into()],
        persistent: false,
        created_at: T0,
        expires_at: T0 + 10_000,
        idp: None,
    }
}

fn portal() -> Client {
    Client {
        id: ClientId::generate(),
        name: "Portal".into(),
        secret_hash: None,
        redirect_uris: vec!["https://portal.example/cb".into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into()],
        token_endpoint_auth_method: "none".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec![],
        created_at: T0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party: true,
        require_pushed_authorization_requests: false,
    }
}

fn deleting_an_account_removes_what_hangs_off_it_and_frees_the_email(store: &Store) {
    let betty = create(store, "betty@example.org");
    let ann = create(store, "ann@example.org");
    for (sid, account) in [("sid-1", &betty.id), ("sid-2", &betty.id), ("sid-3", &ann.id)] {
        store.create_session(&session(sid, account)).unwrap();
    }
    let reset = NewOneTimeCode {
        account_id: betty.id.clone(),
        purpose: Purpose::PasswordReset,
        kind: CodeKind::Link,
        code_hash: TokenHash::of("reset link"),
        created_at: T0,
        expires_at: T0 + 3600,
    };
    store.replace_code(&reset).unwrap();
    store.record_failed_sign_in(&betty.id, &LockoutPolicy::default(), T0).unwrap();
    store.change_password(&betty.id, "$argon2id$second", 10, T0 + 1).unwrap();
    let client = portal();
    store.insert_client(&client).unwrap();
    store
        .insert_code(&common::code(&client, betty.id.as_str(), "betty's code", &GrantId::generate(), T0))
        .unwrap();
    store
        .insert_code(&common::code(&client, ann.id.as_str(), "ann's code", &GrantId::generate(), T0))
        .unwrap();

    assert!(store.delete_account(&betty.id).unwrap());

    assert_eq!(store.find_account(&betty.id).unwrap(), None);
    assert_eq!(store.find_account_by_email(&betty.email).unwrap(), None);
    let alive = |sid: &str| store.find_session(&TokenHash::of(sid), T0, &IdleTimeout::OFF).unwrap().is_some();
    assert_eq!(["sid-1", "sid-2", "sid-3"].map(alive), [false, false, true], "only her sessions end");
    assert_eq!(store.peek_link(&reset.code_hash, Purpose::PasswordReset, T0).unwrap(), Consume::Unknown);
    assert_eq!(store.lockout_state(&betty.id, T0).unwrap().failures, 0);
    assert_eq!(store.password_history(&betty.id, 10).unwrap(), Vec::<String>::new());
    assert_eq!(store.redeem_code(&TokenHash::of("betty's code"), T0 + 1).unwrap(), Redeem::Unknown);
    assert!(matches!(store.redeem_code(&TokenHash::of("ann's code"), T0 + 1).unwrap(), Redeem::Fresh(_)));
    assert_eq!(store.find_account(&ann.id).unwrap(), Some(ann));

    // The email is free again: a new account, with a new id and an empty history.
    let again = create(store, "betty@example.org");
    assert_ne!(again.id, betty.id);
    assert_eq!(store.password_history(&again.id, 10).unwrap().len(), 1);
    assert_eq!(store.lockout_state(&again.id, T0).unwrap().failures, 0);
}

fn deleting_a_missing_account_is_false(store: &Store) {
    let betty = create(store, "betty@example.org");
    assert!(!store.delete_account(&AccountId::generate()).unwrap());
    assert!(store.delete_account(&betty.id).unwrap());
    assert!(!store.delete_account(&betty.id).unwrap(), "deleting twice is not an error");
}

fn audit_events_are_recorded_listed_newest_first_and_outlive_the_account(store: &Store) {
    let betty = create(store, "betty@example.org");
    let ann = create(store, "ann@example.org");
    let ip = || Some("203.0.113.9".to_owned());
    let updated = NewAuditEvent::profile_updated(
        &betty.id,
        &[ProfileField::Name, ProfileField::PhoneNumber],
        ip(),
        T0 + 1,
    );
    let changed = NewAuditEvent::password_changed(&betty.id, None, T0 + 2);
    let theirs = NewAuditEvent::password_changed(&ann.id, ip(), T0 + 3);
    let deleted = NewAuditEvent::account_deleted(&betty.id, ip(), T0 + 4);
    for event in [&updated, &changed, &theirs, &deleted] {
        store.record_event(event).unwrap();
    }
    assert!(store.delete_account(&betty.id).unwrap());

    let events = store.list_events_for(&betty.id, 10).unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["account.deleted", "password.changed", "profile.updated"]);
    let first = &events[2];
    assert_eq!(first.id, updated.id);
    assert_eq!(first.at, T0 + 1);
    assert_eq!(first.account_id.as_ref(), Some(&betty.id));
    assert_eq!(first.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(first.detail, json!({ "fields": ["name", "phone_number"] }));
    assert_eq!(events[1].ip, None);
    assert_eq!(events[0].kind, AuditKind::AccountDeleted.as_str());

    assert_eq!(store.list_events_for(&betty.id, 2).unwrap().len(), 2, "the limit holds");
    assert_eq!(store.list_events_for(&ann.id, 10).unwrap().len(), 1);
    assert!(store.list_events_for(&AccountId::generate(), 10).unwrap().is_empty());
    // An id is recorded once.
    assert!(store.record_event(&updated).is_err());
}

fn notice(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: to.into(),
        subject: "Your password was changed".into(),
        text: "The password of your account was changed.".into(),
        html: "<p>The password of your account was changed.</p>".into(),
    }
}

/// `Store::change_password_with_notice`: the new hash, its history row and the queued notice
/// commit together; for a missing account nothing changes and nothing is queued.
fn a_password_change_and_its_notice_are_stored_together(store: &Store) {
    let betty = create(store, "betty@example.org");
    let new_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA";
    let id = store
        .change_password_with_notice(&betty.id, new_hash, 10, &notice("betty@example.org"), T0 + 10)
        .unwrap()
        .unwrap();
    let stored = store.find_account(&betty.id).unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some(new_hash));
    assert_eq!(store.password_history(&betty.id, 10).unwrap().first().map(String::as_str), Some(new_hash));
    let queued = store.claim_due(T0 + 10, 120, 10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!((&queued[0].id, &queued[0].message), (&id, &notice("betty@example.org")));
    store.mark_sent(&id, T0 + 11).unwrap();

    let ghost = AccountId::generate();
    let none = store.change_password_with_notice(&ghost, new_hash, 10, &notice("ghost@example.org"), T0 + 20);
    assert_eq!(none.unwrap(), None);
    assert!(
        store.claim_due(T0 + 100_000, 120, 10).unwrap().is_empty(),
        "nothing queued for a missing account"
    );
}
