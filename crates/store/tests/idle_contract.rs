//! The session inactivity timeout in the store (`SessionStore::find_session` under an
//! `identity::IdleTimeout`, `Store::end_session`, the purge), on a SQLite file and on
//! PostgreSQL: a use is recorded at most once a step, even from two nodes at once; a session
//! left idle is not found, ends without a back-channel logout, and is purged.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use common::Db;
use gatehouse_store::{Retention, Store};
use identity::{AccountId, IdleTimeout, NewSession, SessionStore};
use oauth::{BackChannelStore, Client, ClientStore};
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
/// The shipped defaults: 30 minutes (a step of 60 s) without "Keep me signed in", no limit with.
const IDLE: IdleTimeout = IdleTimeout { ttl: 1800, persistent_ttl: 0 };

contract!(
    a_use_is_recorded_once_a_step_and_a_session_left_idle_is_not_found,
    parallel_uses_on_two_nodes_record_one_use_per_step,
    a_kept_session_has_its_own_idle_limit_and_none_by_default,
    ending_an_idle_expired_session_queues_no_backchannel_logout,
    the_purge_takes_idle_expired_sessions_and_keeps_the_rest,
);

/// A session begun at `T0` by a new account; `secret` is its cookie.
fn session(store: &Store, account: &AccountId, secret: &str, persistent: bool) -> TokenHash {
    let hash = TokenHash::of(secret);
    store
        .create_session(&NewSession {
            id: uuid::Uuid::new_v4().to_string(),
            token_hash: hash.clone(),
            account_id: account.clone(),
            auth_time: T0,
            amr: vec!["pwd".into()],
            persistent,
            created_at: T0,
            expires_at: T0 + 60 * DAY,
            idp: None,
        })
        .unwrap();
    hash
}

/// `last_seen_at` of the session, as a use at `now` finds it (`None`: not found).
fn seen(store: &Store, hash: &TokenHash, now: i64, idle: &IdleTimeout) -> Option<i64> {
    store.find_session(hash, now, idle).unwrap().map(|s| s.last_seen_at)
}

fn a_use_is_recorded_once_a_step_and_a_session_left_idle_is_not_found(db: &Db) {
    let ole = common::account(db, "ole@example.org", T0);
    let hash = session(db, &ole, "cookie", false);

    assert_eq!(seen(db, &hash, T0, &IDLE), Some(T0), "a new session was last seen when it began");
    assert_eq!(seen(db, &hash, T0 + 59, &IDLE), Some(T0), "within a step: nothing recorded");
    assert_eq!(seen(db, &hash, T0 + 60, &IDLE), Some(T0 + 60), "a step later: recorded");
    assert_eq!(seen(db, &hash, T0 + 61, &IDLE), Some(T0 + 60), "and stored");

    // Used every 29 minutes, it outlives many idle timeouts.
    let mut at = T0 + 60;
    for _ in 0..4 {
        at += 29 * 60;
        assert_eq!(seen(db, &hash, at, &IDLE), Some(at));
    }
    // Unused for ttl + step seconds after the recorded use, it is dead, and stays so.
    assert_eq!(seen(db, &hash, at + 1859, &IDLE), Some(at + 1859), "the last live second");
    let last = at + 1859;
    assert_eq!(seen(db, &hash, last + 1860, &IDLE), None, "idle-expired");
    assert_eq!(seen(db, &hash, last + 1861, &IDLE), None, "a refused use records nothing");
    // Without the limit the row is still there: the idle read deletes nothing.
    assert_eq!(seen(db, &hash, last + 1862, &IdleTimeout::OFF), Some(last + 1862));
}

fn parallel_uses_on_two_nodes_record_one_use_per_step(db: &Db) {
    let ole = common::account(db, "ole@example.org", T0);
    let hash = session(db, &ole, "cookie", false);
    let nodes = [db.store.clone(), db.another_node()];
    // 16 requests at once, their clocks a second apart (T0 + 100 … T0 + 115): all inside one
    // step of each other, so one records its use and none overwrites it.
    let barrier = Barrier::new(16);
    let answers: Vec<Option<i64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (node, hash, barrier) = (&nodes[i % 2], &hash, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    seen(node, hash, T0 + 100 + i as i64, &IDLE)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(Option::is_some), "every use found the session: {answers:?}");
    let stored = seen(db, &hash, T0 + 116, &IDLE).unwrap();
    assert!((T0 + 100..T0 + 116).contains(&stored), "one of the uses was recorded: {stored}");
    // Each answer is the use it recorded (the winner), or what it read: the first use, when it
    // read before the winner committed (its update then matched no row), or the winner's.
    assert!(
        answers.iter().all(|a| *a == Some(T0) || *a == Some(stored)),
        "no use overwrote another within the step: {answers:?}"
    );
}

fn a_kept_session_has_its_own_idle_limit_and_none_by_default(db: &Db) {
    let ole = common::account(db, "ole@example.org", T0);
    let kept = session(db, &ole, "kept", true);
    assert_eq!(seen(db, &kept, T0 + 20 * DAY, &IDLE), Some(T0 + 20 * DAY), "no idle limit by default");
    let weekly = IdleTimeout { ttl: 1800, persistent_ttl: 7 * DAY };
    let at = T0 + 20 * DAY;
    assert!(seen(db, &kept, at + 7 * DAY - 1, &weekly).is_some());
    assert_eq!(seen(db, &kept, at + 7 * DAY - 1 + 7 * DAY + 60, &weekly), None);
    // The absolute expiry still ends it, limit or not.
    let other = session(db, &ole, "other kept", true);
    assert_eq!(seen(db, &other, T0 + 60 * DAY, &IDLE), None);
}

fn ending_an_idle_expired_session_queues_no_backchannel_logout(db: &Db) {
    let portal = Client {
        backchannel_logout_uri: Some("https://portal.example/bc".into()),
        ..common::portal_client(T0)
    };
    db.insert_client(&portal).unwrap();
    let ole = common::account(db, "ole@example.org", T0);
    let idle = session(db, &ole, "idle", false);
    let live = session(db, &ole, "live", false);
    let sid = |hash: &TokenHash| db.find_session(hash, T0, &IDLE).unwrap().unwrap().id;
    let (idle_sid, live_sid) = (sid(&idle), sid(&live));
    for s in [&idle_sid, &live_sid] {
        db.record_session_client(s, &portal.id, ole.as_str(), T0).unwrap();
    }
    assert!(seen(db, &live, T0 + 1800, &IDLE).is_some(), "used: this one stays live");

    // A new sign-in (or "Sign out") after 31 minutes away ends the idle session: nobody signed
    // out of a live session, so the portal is not told.
    let later = T0 + 1860;
    assert_eq!(db.end_session(&idle, later, &IDLE).unwrap(), None);
    assert!(db.backchannel_status(&idle_sid).unwrap().is_empty());
    assert_eq!(seen(db, &idle, later, &IdleTimeout::OFF), None, "the row is gone");

    let ended = db.end_session(&live, later, &IDLE).unwrap().unwrap();
    assert_eq!((ended.session_id.as_str(), ended.queued), (live_sid.as_str(), 1));
    assert_eq!(db.backchannel_status(&live_sid).unwrap().len(), 1);
}

fn the_purge_takes_idle_expired_sessions_and_keeps_the_rest(db: &Db) {
    let ole = common::account(db, "ole@example.org", T0);
    let idle = session(db, &ole, "idle", false);
    let used = session(db, &ole, "used", false);
    let kept = session(db, &ole, "kept", true);
    let now = T0 + 1800;
    assert!(seen(db, &used, now, &IDLE).is_some());

    let retention = Retention {
        grace: DAY,
        token_lifetime: 600,
        delivered: 7 * DAY,
        failed: 30 * DAY,
        audit: None,
        idle: IDLE,
    };
    let purged = db.purge(&retention, now + 60).unwrap();
    assert_eq!(purged.iter().find(|(t, _)| *t == "sessions").unwrap().1, 1, "{purged:?}");
    assert_eq!(seen(db, &idle, now + 60, &IdleTimeout::OFF), None, "the idle one went");
    assert!(seen(db, &used, now + 60, &IDLE).is_some());
    assert!(seen(db, &kept, now + 60, &IDLE).is_some(), "no idle limit with \"Keep me signed in\"");
}
