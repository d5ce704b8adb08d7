//! Tests of the code lifecycle: pure rules, and the in-memory reference store.

use super::*;
use crate::memory::MemoryStore;
use crate::{CodeKey, CodePolicy, issue_link, issue_typed_code};

const T0: i64 = 1_700_000_000;

fn betty() -> AccountId {
    AccountId::from_stored("betty".into())
}

fn key() -> CodeKey {
    CodeKey::new(&[42; 32])
}

fn accepted() -> Consume {
    Consume::Accepted { account_id: betty() }
}

/// A stored typed sign-in code and its digits.
fn typed(store: &MemoryStore, policy: &CodePolicy) -> String {
    let (digits, code) = issue_typed_code(&key(), &betty(), Purpose::SignInCode, policy, T0);
    store.replace_code(&code).unwrap();
    digits.expose().to_owned()
}

fn attempt(store: &MemoryStore, digits: &str, now: i64) -> Consume {
    let presented = key().hash(&betty(), Purpose::SignInCode, digits);
    store.attempt_typed_code(&betty(), Purpose::SignInCode, &presented, now, 5).unwrap()
}

/// A six-digit string other than `digits`.
fn wrong(digits: &str) -> String {
    if digits == "000000" { "000001".into() } else { "000000".into() }
}

#[test]
fn a_reset_link_works_until_one_hour_and_not_at_one_hour() {
    let policy = CodePolicy::default();
    let (_, code) = issue_link(&betty(), Purpose::PasswordReset, &policy, T0);
    let row = OneTimeCode::from(code);
    assert_eq!(judge_link(Some(&row), Purpose::PasswordReset, T0 + 3599), accepted());
    assert_eq!(judge_link(Some(&row), Purpose::PasswordReset, T0 + 3600), Consume::Expired);

    let store = MemoryStore::default();
    let (token2, code2) = issue_link(&betty(), Purpose::Unlock, &policy, T0);
    store.replace_code(&code2).unwrap();
    let at_expiry = T0 + 24 * 3600;
    assert_eq!(store.consume_link(&token2.hash(), Purpose::Unlock, at_expiry).unwrap(), Consume::Expired);
    assert_eq!(store.consume_link(&token2.hash(), Purpose::Unlock, at_expiry - 1).unwrap(), accepted());
}

#[test]
fn a_typed_code_works_until_ten_minutes_and_not_at_ten_minutes() {
    let policy = CodePolicy::default();
    let store = MemoryStore::default();
    let digits = typed(&store, &policy);
    assert_eq!(attempt(&store, &digits, T0 + 600), Consume::Expired);
    assert_eq!(attempt(&store, &digits, T0 + 599), accepted());
}

#[test]
fn a_link_works_once() {
    let store = MemoryStore::default();
    let (token, code) = issue_link(&betty(), Purpose::PasswordReset, &CodePolicy::default(), T0);
    store.replace_code(&code).unwrap();
    assert_eq!(store.consume_link(&token.hash(), Purpose::PasswordReset, T0 + 1).unwrap(), accepted());
    assert_eq!(
        store.consume_link(&token.hash(), Purpose::PasswordReset, T0 + 2).unwrap(),
        Consume::AlreadyUsed
    );
    // Used beats expired: the citizen learns the link was already used, not that it aged out.
    assert_eq!(
        store.consume_link(&token.hash(), Purpose::PasswordReset, T0 + 99_999).unwrap(),
        Consume::AlreadyUsed
    );
}

#[test]
fn a_typed_code_works_once() {
    let store = MemoryStore::default();
    let digits = typed(&store, &CodePolicy::default());
    assert_eq!(attempt(&store, &digits, T0 + 1), accepted());
    assert_eq!(attempt(&store, &digits, T0 + 2), Consume::AlreadyUsed);
}

#[test]
fn parallel_presentations_of_one_link_have_one_winner() {
    let store = MemoryStore::default();
    let (token, code) = issue_link(&betty(), Purpose::PasswordReset, &CodePolicy::default(), T0);
    store.replace_code(&code).unwrap();
    let hash = token.hash();
    let outcomes: Vec<Consume> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|_| s.spawn(|| store.consume_link(&hash, Purpose::PasswordReset, T0 + 1).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| **o == accepted()).count(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o == Consume::AlreadyUsed).count(), 49);
}

#[test]
fn four_wrong_tries_leave_the_code_usable() {
    let store = MemoryStore::default();
    let digits = typed(&store, &CodePolicy::default());
    for i in 1..=4 {
        assert_eq!(attempt(&store, &wrong(&digits), T0 + i), Consume::WrongCode, "try {i}");
    }
    assert_eq!(attempt(&store, &digits, T0 + 5), accepted());
}

#[test]
fn the_fifth_wrong_try_spends_the_code_and_the_right_one_is_then_refused() {
    let store = MemoryStore::default();
    let digits = typed(&store, &CodePolicy::default());
    for i in 1..=4 {
        assert_eq!(attempt(&store, &wrong(&digits), T0 + i), Consume::WrongCode);
    }
    assert_eq!(attempt(&store, &wrong(&digits), T0 + 5), Consume::TooManyTries);
    assert_eq!(attempt(&store, &digits, T0 + 6), Consume::TooManyTries);
}

#[test]
fn settled_codes_do_not_count_tries() {
    let c = |tries, used_at, expires_at| OneTimeCode {
        tries,
        used_at,
        expires_at,
        ..OneTimeCode::from(
            issue_typed_code(&key(), &betty(), Purpose::SignInCode, &CodePolicy::default(), T0).1,
        )
    };
    let any = key().hash(&betty(), Purpose::SignInCode, "123456");
    for (row, outcome) in [
        (c(5, None, T0 + 600), Consume::TooManyTries),
        (c(0, Some(T0), T0 + 600), Consume::AlreadyUsed),
        (c(0, None, T0), Consume::Expired),
    ] {
        let a = judge_typed_code(Some(&row), Purpose::SignInCode, &any, T0, 5);
        assert_eq!(a, TypedAttempt { outcome, counts_try: false });
    }
    let fresh = c(0, None, T0 + 600);
    assert!(judge_typed_code(Some(&fresh), Purpose::SignInCode, &any, T0, 5).counts_try);
}

#[test]
fn a_link_redeems_only_for_its_purpose() {
    let store = MemoryStore::default();
    let (token, code) = issue_link(&betty(), Purpose::Unlock, &CodePolicy::default(), T0);
    store.replace_code(&code).unwrap();
    for other in [Purpose::PasswordReset, Purpose::VerifyEmail, Purpose::SignInCode] {
        assert_eq!(store.consume_link(&token.hash(), other, T0 + 1).unwrap(), Consume::Unknown, "{other:?}");
    }
    // The failed attempts did not use it up.
    assert_eq!(store.consume_link(&token.hash(), Purpose::Unlock, T0 + 1).unwrap(), accepted());
}

#[test]
fn a_typed_code_redeems_only_for_its_purpose_and_never_as_a_link() {
    let store = MemoryStore::default();
    let (digits, code) = issue_typed_code(&key(), &betty(), Purpose::VerifyEmail, &CodePolicy::default(), T0);
    store.replace_code(&code).unwrap();
    // Presented for another purpose: no code there.
    assert_eq!(attempt(&store, digits.expose(), T0 + 1), Consume::Unknown);
    // Its stored hash presented as a link: not a link.
    assert_eq!(store.consume_link(&code.code_hash, Purpose::VerifyEmail, T0 + 1).unwrap(), Consume::Unknown);
    let presented = key().hash(&betty(), Purpose::VerifyEmail, digits.expose());
    let outcome = store.attempt_typed_code(&betty(), Purpose::VerifyEmail, &presented, T0 + 1, 5).unwrap();
    assert_eq!(outcome, accepted());
}

#[test]
fn unknown_links_and_codes_are_unknown() {
    let store = MemoryStore::default();
    assert_eq!(
        store.consume_link(&TokenHash::of("nope"), Purpose::PasswordReset, T0).unwrap(),
        Consume::Unknown
    );
    assert_eq!(attempt(&store, "123456", T0), Consume::Unknown);
}

#[test]
fn a_new_link_voids_the_old_one_for_that_account_and_purpose_only() {
    let store = MemoryStore::default();
    let policy = CodePolicy::default();
    let (old, code) = issue_link(&betty(), Purpose::PasswordReset, &policy, T0);
    store.replace_code(&code).unwrap();
    let (unlock, code) = issue_link(&betty(), Purpose::Unlock, &policy, T0);
    store.replace_code(&code).unwrap();
    let barney = AccountId::from_stored("barney".into());
    let (barneys, code) = issue_link(&barney, Purpose::PasswordReset, &policy, T0);
    store.replace_code(&code).unwrap();

    let (new, code) = issue_link(&betty(), Purpose::PasswordReset, &policy, T0 + 10);
    store.replace_code(&code).unwrap();
    assert_eq!(store.code_count(), 3);
    assert_eq!(store.consume_link(&old.hash(), Purpose::PasswordReset, T0 + 11).unwrap(), Consume::Unknown);
    assert_eq!(store.consume_link(&new.hash(), Purpose::PasswordReset, T0 + 11).unwrap(), accepted());
    assert_eq!(store.consume_link(&unlock.hash(), Purpose::Unlock, T0 + 11).unwrap(), accepted());
    assert_eq!(
        store.consume_link(&barneys.hash(), Purpose::PasswordReset, T0 + 11).unwrap(),
        Consume::Accepted { account_id: barney }
    );
}

#[test]
fn a_new_typed_code_voids_the_old_one_and_its_tries() {
    let store = MemoryStore::default();
    let policy = CodePolicy::default();
    let first = typed(&store, &policy);
    for i in 1..=5 {
        attempt(&store, &wrong(&first), T0 + i);
    }
    assert_eq!(attempt(&store, &first, T0 + 6), Consume::TooManyTries);
    let second = typed(&store, &policy);
    assert_eq!(store.code_count(), 1);
    if first != second {
        assert_eq!(attempt(&store, &first, T0 + 7), Consume::WrongCode);
    }
    assert_eq!(attempt(&store, &second, T0 + 8), accepted());
}
