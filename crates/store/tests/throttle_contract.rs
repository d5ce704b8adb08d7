//! The throttle store contract (`identity::ThrottleStore`), on a SQLite file and on PostgreSQL,
//! as in `contract.rs`: counts persist, are shared by every node, and none is lost when many
//! hits race.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use common::Db;
use identity::{Throttle, ThrottlePolicy, ThrottleStore};

const T0: i64 = 1_700_000_000;
const POLICY: ThrottlePolicy = ThrottlePolicy { min_interval_secs: 30, max_per_window: 3, window_secs: 3600 };

contract!(
    hits_follow_the_policy_and_keys_are_separate,
    another_node_sees_the_same_count,
    racing_hits_lose_no_count,
    stale_keys_are_swept_when_a_new_key_arrives,
);

fn hits_follow_the_policy_and_keys_are_separate(db: &Db) {
    assert_eq!(db.hit("mail:a", &POLICY, T0).unwrap(), Throttle::Allowed);
    assert_eq!(db.hit("mail:a", &POLICY, T0 + 10).unwrap(), Throttle::Limited { retry_after: 20 });
    assert_eq!(db.hit("mail:b", &POLICY, T0 + 10).unwrap(), Throttle::Allowed, "another key");
    assert_eq!(db.hit("mail:a", &POLICY, T0 + 30).unwrap(), Throttle::Allowed);
    assert_eq!(db.hit("mail:a", &POLICY, T0 + 60).unwrap(), Throttle::Allowed);
    assert_eq!(db.hit("mail:a", &POLICY, T0 + 90).unwrap(), Throttle::Limited { retry_after: 3510 });
    assert_eq!(db.hit("mail:a", &POLICY, T0 + 3600).unwrap(), Throttle::Allowed, "a new window");
}

fn another_node_sees_the_same_count(db: &Db) {
    let other = db.another_node();
    assert_eq!(db.hit("k", &POLICY, T0).unwrap(), Throttle::Allowed);
    assert_eq!(other.hit("k", &POLICY, T0 + 1).unwrap(), Throttle::Limited { retry_after: 29 });
}

fn racing_hits_lose_no_count(db: &Db) {
    // No interval, ten per window: of 16 simultaneous hits exactly ten are allowed.
    let policy = ThrottlePolicy { min_interval_secs: 0, max_per_window: 10, window_secs: 3600 };
    let allowed = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| db.hit("race", &policy, T0).unwrap() == Throttle::Allowed))
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).filter(|&allowed| allowed).count()
    });
    assert_eq!(allowed, 10);
    assert_eq!(db.hit("race", &policy, T0).unwrap(), Throttle::Limited { retry_after: 3600 });
}

fn stale_keys_are_swept_when_a_new_key_arrives(db: &Db) {
    assert_eq!(db.hit("old", &POLICY, T0).unwrap(), Throttle::Allowed);
    // A day and more later a new key arrives; the old one's window is long over, and its row
    // is gone: hitting it starts afresh either way, so look at the count through the policy.
    assert_eq!(db.hit("new", &POLICY, T0 + 2 * 86_400).unwrap(), Throttle::Allowed);
    let strict = ThrottlePolicy { min_interval_secs: 0, max_per_window: 1, window_secs: i64::MAX / 4 };
    assert_eq!(db.hit("old", &strict, T0 + 2 * 86_400).unwrap(), Throttle::Allowed, "the row was swept");
}
