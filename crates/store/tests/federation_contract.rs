//! The federation store contract (`identity::FederationStore`): links from upstream identities
//! to accounts, the method an account is bound to, and single-use pending upstream flows. Each
//! suite function runs on a SQLite file and on a PostgreSQL database, races included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use common::Db;
use identity::{
    AccountId, AccountStore, AuditStore, CreateAccount, Email, FederationStore, ImportedAccount, NewAccount,
    NewAuditEvent, NewUpstreamFlow, RegistrationStore, TakeFlow, UpstreamIdentity,
};
use tokens::TokenHash;

const RACERS: usize = 20;
const T0: i64 = 1_700_000_000;

contract!(
    a_flow_is_taken_once_and_not_after_it_expires,
    parallel_callbacks_with_one_state_take_the_flow_once,
    another_node_finishes_a_flow_this_node_started,
    an_upstream_account_is_bound_to_its_provider_and_linked,
    parallel_first_sign_ins_create_one_account,
    an_imported_account_is_claimed_once_by_an_upstream,
    linking_records_its_audit_event_and_a_pair_links_once,
    local_accounts_are_bound_to_email,
);

fn flow(state: &str, expires_at: i64) -> NewUpstreamFlow {
    NewUpstreamFlow {
        state_hash: TokenHash::of(state),
        provider: "google".into(),
        nonce: "nonce-1".into(),
        pkce_verifier: "v".repeat(43),
        continue_to: "/authorize?client_id=x".into(),
        keep_signed_in: true,
        binding_hash: TokenHash::of("binding"),
        created_at: T0,
        expires_at,
    }
}

fn upstream(subject: &str, email: &str) -> UpstreamIdentity {
    UpstreamIdentity {
        provider: "google".into(),
        subject: subject.into(),
        verified_email: Some(Email::parse(email).unwrap()),
        name: Some("Ole Mae".into()),
        given_name: Some("Ole".into()),
        family_name: None,
    }
}

fn new_account(id: &str, email: &str, password: Option<&str>) -> NewAccount {
    NewAccount {
        id: AccountId::from_stored(id.into()),
        email: Email::parse(email).unwrap(),
        email_verified: true,
        name: None,
        given_name: None,
        family_name: None,
        phone_number: None,
        password_hash: password.map(Into::into),
        created_at: T0,
    }
}

fn a_flow_is_taken_once_and_not_after_it_expires(db: &Db) {
    db.create_upstream_flow(&flow("s1", T0 + 600)).unwrap();
    db.create_upstream_flow(&flow("s2", T0 + 600)).unwrap();
    let TakeFlow::Taken(taken) = db.take_upstream_flow(&TokenHash::of("s1"), T0 + 1).unwrap() else {
        panic!("expected the flow");
    };
    assert_eq!(taken, flow("s1", T0 + 600));
    assert_eq!(db.take_upstream_flow(&TokenHash::of("s1"), T0 + 2).unwrap(), TakeFlow::Unknown);
    assert_eq!(db.take_upstream_flow(&TokenHash::of("s2"), T0 + 600).unwrap(), TakeFlow::Expired);
    assert_eq!(db.take_upstream_flow(&TokenHash::of("s2"), T0 + 1).unwrap(), TakeFlow::Unknown);
    assert_eq!(db.take_upstream_flow(&TokenHash::of("never"), T0).unwrap(), TakeFlow::Unknown);
}

fn parallel_callbacks_with_one_state_take_the_flow_once(db: &Db) {
    db.create_upstream_flow(&flow("race", T0 + 600)).unwrap();
    let barrier = Barrier::new(RACERS);
    let wins = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    db.take_upstream_flow(&TokenHash::of("race"), T0 + 1).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).filter(|t| matches!(t, TakeFlow::Taken(_))).count()
    });
    assert_eq!(wins, 1);
}

fn another_node_finishes_a_flow_this_node_started(db: &Db) {
    db.create_upstream_flow(&flow("shared", T0 + 600)).unwrap();
    let other = db.another_node();
    assert!(matches!(
        other.take_upstream_flow(&TokenHash::of("shared"), T0 + 1).unwrap(),
        TakeFlow::Taken(_)
    ));
}

fn an_upstream_account_is_bound_to_its_provider_and_linked(db: &Db) {
    let new = new_account("acc-g", "ole@gmail.com", None);
    let CreateAccount::Created(account) = db.create_upstream_account(&new, "google", "g-1").unwrap() else {
        panic!("expected a new account");
    };
    assert!(account.email_verified && account.password_hash.is_none());
    assert_eq!(db.find_linked_account("google", "g-1").unwrap(), Some(account.id.clone()));
    assert_eq!(db.find_linked_account("microsoft", "g-1").unwrap(), None);
    assert_eq!(db.first_method(&account.id).unwrap().as_deref(), Some("google"));
    let bound = db.find_bound_account(&Email::parse("ole@gmail.com").unwrap()).unwrap().unwrap();
    assert_eq!((bound.first_method.as_str(), bound.unclaimed_import), ("google", false));
    let again = new_account("acc-2", "ole@gmail.com", None);
    assert_eq!(db.create_upstream_account(&again, "google", "g-2").unwrap(), CreateAccount::EmailTaken);
    assert_eq!(db.find_linked_account("google", "g-2").unwrap(), None, "the failed insert left no link");
}

fn parallel_first_sign_ins_create_one_account(db: &Db) {
    let barrier = Barrier::new(RACERS);
    let created = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    let new = new_account(&format!("acc-{i}"), "race@gmail.com", None);
                    barrier.wait();
                    db.create_upstream_account(&new, "google", "g-race").unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|c| matches!(c, CreateAccount::Created(_)))
            .count()
    });
    assert_eq!(created, 1);
    assert!(db.find_linked_account("google", "g-race").unwrap().is_some());
}

fn an_imported_account_is_claimed_once_by_an_upstream(db: &Db) {
    let id = AccountId::from_stored("imp-1".into());
    db.import_accounts(&[ImportedAccount {
        id: id.clone(),
        email: Email::parse("legacy@x.org").unwrap(),
        given_name: Some("Legacy".into()),
        family_name: None,
        name: None,
        phone_number: None,
        attributes: Default::default(),
        created_at: T0,
    }])
    .unwrap();
    let bound = db.find_bound_account(&Email::parse("legacy@x.org").unwrap()).unwrap().unwrap();
    assert!(bound.unclaimed_import);
    let who = upstream("g-legacy", "legacy@x.org");
    assert!(db.claim_for_upstream(&id, &who, T0 + 5).unwrap());
    assert!(!db.claim_for_upstream(&id, &upstream("g-other", "legacy@x.org"), T0 + 6).unwrap());
    let account = db.find_account(&id).unwrap().unwrap();
    assert!(account.email_verified);
    assert_eq!(account.given_name.as_deref(), Some("Legacy"), "imported names stay");
    assert_eq!(account.name.as_deref(), Some("Ole Mae"), "empty names come from the provider");
    assert_eq!(db.first_method(&id).unwrap().as_deref(), Some("google"));
    assert_eq!(db.find_linked_account("google", "g-legacy").unwrap(), Some(id));
}

fn linking_records_its_audit_event_and_a_pair_links_once(db: &Db) {
    let CreateAccount::Created(account) =
        db.create_account(&new_account("acc-pw", "pw@x.org", Some("$argon2id$x"))).unwrap()
    else {
        panic!("expected a new account");
    };
    let event = NewAuditEvent::upstream_linked(&account.id, "google", Some("203.0.113.9".into()), T0);
    assert!(db.link_upstream(&account.id, "google", "g-9", &event, T0).unwrap());
    let again = NewAuditEvent::upstream_linked(&account.id, "google", None, T0 + 1);
    assert!(!db.link_upstream(&account.id, "google", "g-9", &again, T0 + 1).unwrap());
    let events = db.list_events_for(&account.id, 10).unwrap();
    assert_eq!(events.len(), 1, "the refused link recorded nothing");
    assert_eq!(events[0].kind, "account.upstream_linked");
    assert_eq!(events[0].detail["provider"], "google");
    assert_eq!(db.first_method(&account.id).unwrap().as_deref(), Some("email"), "linking keeps the binding");
}

fn local_accounts_are_bound_to_email(db: &Db) {
    let CreateAccount::Created(account) = db.create_account(&new_account("acc-l", "l@x.org", None)).unwrap()
    else {
        panic!("expected a new account");
    };
    assert_eq!(db.first_method(&account.id).unwrap().as_deref(), Some("email"));
    assert_eq!(db.first_method(&AccountId::from_stored("nobody".into())).unwrap(), None);
}
