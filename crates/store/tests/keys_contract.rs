//! The signing-key rotation contract (`tokens::KeyStore::rotate_key`), on a SQLite file and on
//! PostgreSQL: the decision is `tokens::rotation::plan`'s, applied in the transaction that read
//! the keys, so nodes racing on one schedule rotate once.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use common::Db;
use tokens::rotation::{RotateWhen, Rotation};
use tokens::{KeyStore, StoredKey};

const T0: i64 = 1_700_000_000;

contract!(
    a_rotation_inserts_a_pending_key_and_retires_the_active_one,
    nodes_racing_on_the_schedule_rotate_once
);

fn key(kid: &str, alg: &str, at: i64) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg: alg.into(),
        sealed_private_key: vec![1, 2, 3],
        created_at: at,
        activates_at: at,
        retires_at: None,
    }
}

fn a_rotation_inserts_a_pending_key_and_retires_the_active_one(db: &Db) {
    db.insert_key(&key("es-1", "ES256", T0)).unwrap();
    db.insert_key(&key("rs-1", "RS256", T0)).unwrap();
    let decision = db.rotate_key(&key("es-2", "ES256", T0 + 100), T0 + 100, 300, RotateWhen::Now).unwrap();
    assert_eq!(decision, Rotation::Rotate { at: T0 + 400, retire: vec!["es-1".into()] });
    let keys = db.list_keys().unwrap();
    let find = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().clone();
    assert_eq!(find("es-1").retires_at, Some(T0 + 400));
    assert_eq!((find("es-2").activates_at, find("es-2").retires_at), (T0 + 400, None));
    assert_eq!(find("rs-1").retires_at, None, "another algorithm is left alone");

    // A second rotation before the pending key activates changes nothing.
    let again = db.rotate_key(&key("es-3", "ES256", T0 + 200), T0 + 200, 300, RotateWhen::Now).unwrap();
    assert_eq!(again, Rotation::AlreadyPending { kid: "es-2".into(), activates_at: T0 + 400 });
    assert_eq!(db.list_keys().unwrap().len(), 3);
}

fn nodes_racing_on_the_schedule_rotate_once(db: &Db) {
    db.insert_key(&key("es-1", "ES256", T0)).unwrap();
    let nodes: Vec<_> = (0..6).map(|_| db.another_node()).collect();
    let now = T0 + 10_000;
    let decisions: Vec<Rotation> = std::thread::scope(|scope| {
        let racers: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                scope.spawn(move || {
                    let new = key(&format!("es-new-{i}"), "ES256", now);
                    node.rotate_key(&new, now, 60, RotateWhen::OlderThan(5_000)).unwrap()
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let rotated = decisions.iter().filter(|d| matches!(d, Rotation::Rotate { .. })).count();
    assert_eq!(rotated, 1, "{decisions:?}");
    assert!(decisions.iter().all(|d| matches!(d, Rotation::Rotate { .. } | Rotation::AlreadyPending { .. })));
    assert_eq!(db.list_keys().unwrap().len(), 2);
}
