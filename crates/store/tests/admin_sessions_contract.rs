//! An operator ends sessions in bulk (OWASP ASVS 5.0 7.4.5): `Store::end_sessions_of` (every
//! session of one account) and `Store::end_all_sessions` (every account's, in batches), on a
//! SQLite file and on PostgreSQL. Each ended session's back-channel logouts are queued as when
//! one session ends; no token is revoked.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use common::Db;
use gatehouse_store::{EndedSessions, Store};
use identity::{AccountId, IdleTimeout, NewSession, RevocationStore, SessionStore};
use oauth::{BackChannelStore, ClientStore};
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;

contract!(
    ending_one_accounts_sessions_leaves_the_others_and_queues_their_logouts,
    ending_every_session_works_in_batches_and_spares_sessions_begun_later,
    parallel_ends_of_every_session_end_each_once,
);

/// A session `sid` of `account` that began at `created_at` and lasts an hour; its cookie hash.
fn session(store: &Store, account: &AccountId, sid: &str, created_at: i64) -> TokenHash {
    let hash = TokenHash::of(&format!("cookie of {sid}"));
    store
        .create_session(&NewSession {
            id: sid.into(),
            token_hash: hash.clone(),
            account_id: account.clone(),
            auth_time: created_at,
            amr: vec!["pwd".into()],
            persistent: false,
            created_at,
            expires_at: created_at + 3600,
            idp: None,
        })
        .unwrap();
    hash
}

/// A portal with a back-channel logout URI and one without; both registered.
fn portals(store: &Store) -> (oauth::Client, oauth::Client) {
    let mut told = common::portal_client(T0);
    told.backchannel_logout_uri = Some("https://told.example/bc".into());
    let quiet = common::portal_client(T0);
    store.insert_client(&told).unwrap();
    store.insert_client(&quiet).unwrap();
    (told, quiet)
}

fn queued_sids(db: &Db, now: i64) -> Vec<String> {
    let mut sids: Vec<String> =
        db.claim_due_logouts(now, 60, 1000).unwrap().into_iter().map(|p| p.session_id).collect();
    sids.sort();
    sids
}

fn ending_one_accounts_sessions_leaves_the_others_and_queues_their_logouts(db: &Db) {
    let (told, quiet) = portals(db);
    let (ole, ada) = (common::account(db, "ole@example.org", T0), common::account(db, "ada@example.org", T0));
    let ole_1 = session(db, &ole, "ole-1", T0);
    let ole_2 = session(db, &ole, "ole-2", T0 + 10);
    session(db, &ole, "ole-expired", T0 - 7200);
    let ada_1 = session(db, &ada, "ada-1", T0);
    for sid in ["ole-1", "ole-2", "ada-1"] {
        db.record_session_client(sid, &told.id, "sub", T0).unwrap();
    }
    db.record_session_client("ole-1", &quiet.id, "sub", T0).unwrap();

    let now = T0 + 60;
    let ended = db.end_sessions_of(&ole, now).unwrap();
    assert_eq!(ended, EndedSessions { sessions: 2, logouts_queued: 2 }, "live sessions, told portal only");
    assert_eq!(db.find_session(&ole_1, now, &IdleTimeout::OFF).unwrap(), None);
    assert_eq!(db.find_session(&ole_2, now, &IdleTimeout::OFF).unwrap(), None);
    assert!(
        db.find_session(&ada_1, now, &IdleTimeout::OFF).unwrap().is_some(),
        "another account's session stands"
    );
    assert_eq!(queued_sids(db, now), ["ole-1", "ole-2"]);
    assert_eq!(db.tokens_revoked_at(&ole).unwrap(), None, "no token is revoked");

    // Again: nothing left to end; the account can begin a new session.
    assert_eq!(db.end_sessions_of(&ole, now).unwrap(), EndedSessions::default());
    let again = session(db, &ole, "ole-3", now);
    assert!(db.find_session(&again, now, &IdleTimeout::OFF).unwrap().is_some());
    let nobody = AccountId::generate();
    assert_eq!(db.end_sessions_of(&nobody, now).unwrap(), EndedSessions::default());
}

fn ending_every_session_works_in_batches_and_spares_sessions_begun_later(db: &Db) {
    let (told, _) = portals(db);
    let accounts: Vec<AccountId> =
        (0..3).map(|i| common::account(db, &format!("p{i}@example.org"), T0)).collect();
    let started = T0 + 100;
    let mut live = Vec::new();
    for i in 0..7 {
        let sid = format!("s-{i}");
        live.push(session(db, &accounts[i % 3], &sid, T0 + i as i64));
        if i % 2 == 0 {
            db.record_session_client(&sid, &told.id, "sub", T0).unwrap();
        }
    }
    session(db, &accounts[0], "expired", T0 - 7200);
    let later = session(db, &accounts[1], "later", started + 1);
    db.record_session_client("later", &told.id, "sub", started + 1).unwrap();

    // Batches of 3: 7 sessions take three batches and a fourth that finds none.
    let ended = db.end_all_sessions(started, 3).unwrap();
    assert_eq!(ended, EndedSessions { sessions: 7, logouts_queued: 4 });
    for hash in &live {
        assert_eq!(db.find_session(hash, started, &IdleTimeout::OFF).unwrap(), None);
    }
    assert!(
        db.find_session(&later, started + 1, &IdleTimeout::OFF).unwrap().is_some(),
        "begun after the call started"
    );
    assert_eq!(queued_sids(db, started), ["s-0", "s-2", "s-4", "s-6"]);
    assert_eq!(db.end_all_sessions(started, 3).unwrap(), EndedSessions::default());
}

fn parallel_ends_of_every_session_end_each_once(db: &Db) {
    let (told, _) = portals(db);
    let ole = common::account(db, "ole@example.org", T0);
    for i in 0..40 {
        let sid = format!("s-{i:02}");
        session(db, &ole, &sid, T0);
        db.record_session_client(&sid, &told.id, "sub", T0).unwrap();
    }
    // Two nodes end everything at once while the account's own "sign out everywhere" runs.
    let nodes = [db.another_node(), db.another_node(), db.another_node()];
    let barrier = Barrier::new(3);
    let outcomes: Vec<EndedSessions> = std::thread::scope(|s| {
        let handles: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let (barrier, ole) = (&barrier, &ole);
                s.spawn(move || {
                    barrier.wait();
                    if i == 2 {
                        node.end_sessions_of(ole, T0 + 1).unwrap()
                    } else {
                        node.end_all_sessions(T0 + 1, 4).unwrap()
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sessions: usize = outcomes.iter().map(|o| o.sessions).sum();
    let queued: usize = outcomes.iter().map(|o| o.logouts_queued).sum();
    assert_eq!((sessions, queued), (40, 40), "each session ended once: {outcomes:?}");
    let sids = queued_sids(db, T0 + 1);
    let mut distinct = sids.clone();
    distinct.dedup();
    assert_eq!((sids.len(), distinct.len()), (40, 40), "one logout per session");
}
