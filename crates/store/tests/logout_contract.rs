//! The logout store contract: `Store::end_session` and `oauth::BackChannelStore`, plus the
//! logouts queued when a password change or a deletion ends an account's sessions. Each suite
//! function gets a fresh, migrated store, on SQLite (`sqlite::…`) and PostgreSQL (`postgres::…`).

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use common::Db;
use gatehouse_store::{EndedSession, Store};
use identity::{AccountId, IdleTimeout, NewSession, ProfileStore, RevocationStore, SessionStore};
use oauth::{BackChannelStore, Client, ClientId, ClientStore};
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;

contract!(
    ending_a_session_queues_a_logout_for_each_participant_with_a_backchannel_uri,
    a_session_ends_once_and_a_participant_is_recorded_once,
    a_claimed_logout_is_leased_retried_later_and_then_delivered_or_failed,
    two_nodes_never_claim_the_same_logout,
    password_change_and_deletion_queue_logouts_for_the_ended_sessions,
    queued_logouts_go_with_their_client,
);

fn client(name: &str, backchannel: Option<&str>) -> Client {
    Client {
        id: ClientId::generate(),
        name: name.into(),
        secret_hash: Some(TokenHash::of("client secret")),
        redirect_uris: vec!["https://portal.example/cb".into()],
        post_logout_redirect_uris: vec!["https://portal.example/bye".into()],
        backchannel_logout_uri: backchannel.map(Into::into),
        first_party: true,
        require_pushed_authorization_requests: false,
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "ES256".into(),
        extra_claims: vec![],
        created_at: T0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
    }
}

/// A session `sid` for `account`, its cookie secret being `secret`.
fn session(store: &Store, account: &AccountId, sid: &str, secret: &str) -> TokenHash {
    let hash = TokenHash::of(secret);
    store
        .create_session(&NewSession {
            id: sid.into(),
            token_hash: hash.clone(),
            account_id: account.clone(),
            auth_time: T0,
            amr: vec!["pwd".into()],
            persistent: false,
            created_at: T0,
            expires_at: T0 + 3600,
            idp: None,
        })
        .unwrap();
    hash
}

/// Two portals with back-channel URIs and one without, all in session `sid-1`.
fn three_portals(store: &Store) -> (Client, Client, Client) {
    let a = client("A", Some("https://a.example/bc"));
    let b = client("B", Some("https://b.example/bc"));
    let quiet = client("Quiet", None);
    for c in [&a, &b, &quiet] {
        store.insert_client(c).unwrap();
    }
    (a, b, quiet)
}

fn ending_a_session_queues_a_logout_for_each_participant_with_a_backchannel_uri(db: &Db) {
    let (a, b, quiet) = three_portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    let hash = session(db, &ole, "sid-1", "cookie 1");
    let other = session(db, &ole, "sid-2", "cookie 2");
    for c in [&a, &b, &quiet] {
        db.record_session_client("sid-1", &c.id, ole.as_str(), T0).unwrap();
    }
    db.record_session_client("sid-2", &a.id, ole.as_str(), T0).unwrap();

    let ended = db.end_session(&hash, T0 + 10, &IdleTimeout::OFF).unwrap();
    assert_eq!(
        ended,
        Some(EndedSession { session_id: "sid-1".into(), account_id: ole.as_str().into(), queued: 2 })
    );
    assert_eq!(db.find_session(&hash, T0 + 10, &IdleTimeout::OFF).unwrap(), None);
    assert!(
        db.find_session(&other, T0 + 10, &IdleTimeout::OFF).unwrap().is_some(),
        "another session is left alone"
    );

    let mut due = db.claim_due_logouts(T0 + 10, 60, 10).unwrap();
    due.sort_by(|x, y| x.uri.cmp(&y.uri));
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].client_id, a.id);
    assert_eq!(due[0].uri.as_deref(), Some("https://a.example/bc"));
    assert_eq!(due[1].client_id, b.id);
    for p in &due {
        assert_eq!((p.session_id.as_str(), p.subject.as_str()), ("sid-1", ole.as_str()));
        assert_eq!((p.alg.as_str(), p.attempts), ("ES256", 0));
    }
}

fn a_session_ends_once_and_a_participant_is_recorded_once(db: &Db) {
    let (a, _, _) = three_portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    let hash = session(db, &ole, "sid-1", "cookie 1");
    db.record_session_client("sid-1", &a.id, ole.as_str(), T0).unwrap();
    db.record_session_client("sid-1", &a.id, ole.as_str(), T0 + 5).unwrap();

    // Parallel sign-outs of one session: one ends it and queues its logout.
    let barrier = Barrier::new(8);
    let outcomes: Vec<Option<EndedSession>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    db.end_session(&hash, T0 + 10, &IdleTimeout::OFF).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = outcomes.into_iter().flatten().collect();
    assert_eq!(winners.len(), 1);
    assert_eq!(winners[0].queued, 1);
    assert_eq!(db.end_session(&hash, T0 + 20, &IdleTimeout::OFF).unwrap(), None);
    assert_eq!(db.claim_due_logouts(T0 + 20, 60, 10).unwrap().len(), 1);
}

fn a_claimed_logout_is_leased_retried_later_and_then_delivered_or_failed(db: &Db) {
    let (a, b, _) = three_portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    let hash = session(db, &ole, "sid-1", "cookie 1");
    db.record_session_client("sid-1", &a.id, ole.as_str(), T0).unwrap();
    db.record_session_client("sid-1", &b.id, ole.as_str(), T0).unwrap();
    db.end_session(&hash, T0, &IdleTimeout::OFF).unwrap();

    let due = db.claim_due_logouts(T0, 60, 10).unwrap();
    assert_eq!(due.len(), 2);
    assert!(db.claim_due_logouts(T0 + 59, 60, 10).unwrap().is_empty(), "leased");
    let (to_a, to_b) = if due[0].client_id == a.id { (&due[0], &due[1]) } else { (&due[1], &due[0]) };

    db.mark_logout_retry(&to_a.id, T0 + 100, "HTTP 500").unwrap();
    db.mark_logout_failed(&to_b.id, "HTTP 500", T0).unwrap();
    assert!(db.claim_due_logouts(T0 + 99, 60, 10).unwrap().is_empty(), "not due yet; failed is never due");
    let again = db.claim_due_logouts(T0 + 100, 60, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id.as_str(), again[0].attempts), (to_a.id.as_str(), 1));
    db.mark_logout_delivered(&to_a.id, T0 + 100).unwrap();
    assert!(db.claim_due_logouts(T0 + 10_000, 60, 10).unwrap().is_empty());

    let mut status = db.backchannel_status("sid-1").unwrap();
    status.sort();
    let mut want = vec![
        (a.id.as_str().to_owned(), "delivered".to_owned(), 2),
        (b.id.as_str().to_owned(), "failed".to_owned(), 1),
    ];
    want.sort();
    assert_eq!(status, want);

    // A lease that ran out (a node died mid-delivery) is claimed again.
    let hash = session(db, &ole, "sid-2", "cookie 2");
    db.record_session_client("sid-2", &a.id, ole.as_str(), T0).unwrap();
    db.end_session(&hash, T0, &IdleTimeout::OFF).unwrap();
    assert_eq!(db.claim_due_logouts(T0, 60, 10).unwrap().len(), 1);
    assert_eq!(db.claim_due_logouts(T0 + 60, 60, 10).unwrap().len(), 1);
}

fn two_nodes_never_claim_the_same_logout(db: &Db) {
    let (a, _, _) = three_portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    for i in 0..20 {
        let hash = session(db, &ole, &format!("sid-{i}"), &format!("cookie {i}"));
        db.record_session_client(&format!("sid-{i}"), &a.id, ole.as_str(), T0).unwrap();
        db.end_session(&hash, T0, &IdleTimeout::OFF).unwrap();
    }
    let nodes = [db.another_node(), db.another_node()];
    let barrier = Barrier::new(2);
    let claimed: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = nodes
            .iter()
            .map(|node| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let mut ids = Vec::new();
                    for _ in 0..10 {
                        ids.extend(node.claim_due_logouts(T0, 60, 3).unwrap().into_iter().map(|p| p.id));
                    }
                    ids
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<String> = claimed.concat();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (20, 20), "every logout claimed exactly once");
}

fn password_change_and_deletion_queue_logouts_for_the_ended_sessions(db: &Db) {
    let (a, _, _) = three_portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    session(db, &ole, "sid-keep", "cookie keep");
    session(db, &ole, "sid-other", "cookie other");
    db.record_session_client("sid-keep", &a.id, ole.as_str(), T0).unwrap();
    db.record_session_client("sid-other", &a.id, ole.as_str(), T0).unwrap();

    // A password change keeps the session making it and ends the others.
    db.revoke_account_access(&ole, Some("sid-keep"), T0 + 5).unwrap();
    let due = db.claim_due_logouts(T0 + 5, 60, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].session_id, "sid-other");
    db.mark_logout_delivered(&due[0].id, T0 + 5).unwrap();

    // Deleting the account ends the rest.
    assert!(db.delete_account(&ole).unwrap());
    let due = db.claim_due_logouts(i64::MAX / 2, 60, 10).unwrap();
    assert_eq!(due.iter().map(|p| p.session_id.as_str()).collect::<Vec<_>>(), ["sid-keep"]);
}

fn queued_logouts_go_with_their_client(db: &Db) {
    let (a, _, _) = three_portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    let hash = session(db, &ole, "sid-1", "cookie 1");
    db.record_session_client("sid-1", &a.id, ole.as_str(), T0).unwrap();
    db.end_session(&hash, T0, &IdleTimeout::OFF).unwrap();
    assert!(db.delete_client(&a.id).unwrap());
    assert!(db.claim_due_logouts(T0, 60, 10).unwrap().is_empty());
    assert!(db.backchannel_status("sid-1").unwrap().is_empty());
}
