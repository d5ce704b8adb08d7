//! An operator's lock (`identity::LockoutStore::set_operator_lock`), on a SQLite file and on
//! PostgreSQL: it holds through failures, the cool-down and an unlock link's `clear_lockout`,
//! and only lifting it clears it.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use common::Db;
use identity::{AccountId, AccountStore, Email, LockoutPolicy, LockoutStore, NewAccount, OPERATOR_LOCK};

const T0: i64 = 1_700_000_000;

contract!(an_operator_lock_outlasts_everything_but_lifting_it);

fn an_operator_lock_outlasts_everything_but_lifting_it(db: &Db) {
    let id = AccountId::generate();
    let account = NewAccount {
        id: id.clone(),
        email: Email::parse("lena@example.org").unwrap(),
        email_verified: true,
        name: None,
        given_name: None,
        family_name: None,
        phone_number: None,
        password_hash: None,
        created_at: T0,
    };
    db.create_account(&account).unwrap();
    let policy = LockoutPolicy::default();
    db.record_failed_sign_in(&id, &policy, T0).unwrap();

    db.set_operator_lock(&id, true).unwrap();
    assert_eq!(db.lockout_state(&id, T0).unwrap().is_locked(T0 + 86_400 * 365), Some(OPERATOR_LOCK));
    let after = db.record_failed_sign_in(&id, &policy, T0 + 5).unwrap();
    assert!(after.operator_locked);
    db.clear_lockout(&id).unwrap();
    assert_eq!(
        db.lockout_state(&id, T0).unwrap().is_locked(T0),
        Some(OPERATOR_LOCK),
        "an unlock link lifts nothing"
    );

    db.set_operator_lock(&id, false).unwrap();
    assert_eq!(db.lockout_state(&id, T0).unwrap(), Default::default());
    // Locking an account that never failed creates its row.
    let other = AccountId::generate();
    db.create_account(&NewAccount {
        id: other.clone(),
        email: Email::parse("max@example.org").unwrap(),
        ..account
    })
    .unwrap();
    db.set_operator_lock(&other, true).unwrap();
    assert!(db.lockout_state(&other, T0).unwrap().operator_locked);
}
