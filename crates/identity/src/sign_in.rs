//! The password sign-in rule. Responses never reveal whether an email has an account
//! (DESIGN.md, "Accounts"): an unknown email, an account without a password and a wrong password
//! all cost one argon2 verification and all answer [`SignIn::Invalid`].
//!
//! [`verify_sign_in`] adds the lockout ([`crate::lockout`]). With it, a caller runs:
//!
//! ```text
//! email ─▶ find_account_by_email ─▶ begin_password_attempt (if found: counts the attempt
//!          as a failure first, under the row lock) ─▶ verify_sign_in (given the state only if
//!          the attempt was refused as Locked)
//!   ├─ Authenticated          ─▶ clear_lockout (undoes the counted attempt)
//!   ├─ Invalid { Some(id) }   ─▶ already counted (if that count locked: answer Locked)
//!   ├─ Invalid { None }       ─▶ nothing to count: the email has no account
//!   └─ Locked { until }       ─▶ locked_message
//! ```
//!
//! Counting before checking keeps N guesses sent at once from all being checked while the
//! count still reads "clear": at most `max_failures` are checked before the lock.

use crate::{Account, AccountId, HashPool, LockoutState};

/// The outcome of a password sign-in. Expected outcomes are values, not errors (STYLE.md);
/// `Locked { until }` joins with the lockout work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    Authenticated(Account),
    /// No such account, no password on it, or the wrong password: the citizen is told only that
    /// the email or password is wrong.
    Invalid,
}

/// Checks `password` for `account`, what the email resolved to (`None`: no such account).
/// Always runs exactly one argon2 verification, so "no account" and "wrong password" take the
/// same time and give the same answer.
pub async fn sign_in_with_password(pool: &HashPool, account: Option<Account>, password: &str) -> SignIn {
    let phc = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = pool.verify(password.to_owned(), phc).await;
    match account {
        Some(account) if matches => SignIn::Authenticated(account),
        _ => SignIn::Invalid,
    }
}

/// The outcome of a password sign-in with lockout. Expected outcomes are values (STYLE.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    Authenticated(Account),
    /// The account is locked until `until` (unix seconds), whatever password was typed. Show
    /// [`locked_message`](crate::locked_message).
    Locked {
        until: i64,
    },
    /// Unknown email, no password on the account, or the wrong password; the page says only
    /// that the email or password is wrong. `account_id` is the account to count a failure
    /// against ([`record_failed_sign_in`](crate::LockoutStore::record_failed_sign_in)); `None`
    /// for an unknown email. If the recorded failure locks the account, the caller may answer
    /// `Locked` at once.
    Invalid {
        account_id: Option<AccountId>,
    },
}

/// Checks `password` for `account` (what the email resolved to; `None`: no such account), given
/// the account's `lockout` state (`None`: none read). Exactly one argon2 verification runs in
/// every branch, so timing tells nothing apart.
///
/// A locked account is refused even with the right password: the verification runs against the
/// dummy hash, its result unused, and the answer is [`SignInOutcome::Locked`]. That answer does
/// tell that the email has an account; the issue asks for it, for accounts only. An unknown
/// email never reaches the lockout branch (there is no account to lock, and `lockout` is ignored
/// without one), so it can never answer `Locked`: guessing at an unknown email answers `Invalid`
/// for ever. That an attacker can learn an address has an account by making it lock is the
/// price of telling a locked-out citizen what happened and how to unlock.
pub async fn verify_sign_in(
    pool: &HashPool,
    account: Option<Account>,
    lockout: Option<LockoutState>,
    password: &str,
    now: i64,
) -> SignInOutcome {
    let locked_until = account.as_ref().and(lockout).and_then(|state| state.is_locked(now));
    if let Some(until) = locked_until {
        // The same work as any other answer; the result is thrown away on purpose.
        let _ = pool.verify(password.to_owned(), None).await;
        return SignInOutcome::Locked { until };
    }
    let phc = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = pool.verify(password.to_owned(), phc).await;
    match account {
        Some(account) if matches => SignInOutcome::Authenticated(account),
        account => SignInOutcome::Invalid { account_id: account.map(|a| a.id) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::tests::{cheap_pool, started};
    use crate::{AccountId, Email};

    async fn account(pool: &HashPool, password: Option<&str>) -> Account {
        let password_hash = match password {
            Some(p) => Some(pool.hash(p.to_owned()).await.unwrap()),
            None => None,
        };
        Account {
            id: AccountId::generate(),
            email: Email::parse("betty@x.org").unwrap(),
            email_verified: true,
            name: None,
            given_name: None,
            family_name: None,
            phone_number: None,
            password_hash,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[tokio::test]
    async fn right_password_authenticates() {
        let pool = cheap_pool();
        let betty = account(&pool, Some("Rubble2020!")).await;
        let before = started(&pool);
        let outcome = sign_in_with_password(&pool, Some(betty.clone()), "Rubble2020!").await;
        assert_eq!(outcome, SignIn::Authenticated(betty));
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn wrong_password_is_invalid() {
        let pool = cheap_pool();
        let betty = account(&pool, Some("Rubble2020!")).await;
        let before = started(&pool);
        assert_eq!(sign_in_with_password(&pool, Some(betty), "rubble2020!").await, SignIn::Invalid);
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn absent_account_is_invalid_after_one_verification() {
        let pool = cheap_pool();
        let before = started(&pool);
        assert_eq!(sign_in_with_password(&pool, None, "Rubble2020!").await, SignIn::Invalid);
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn account_without_password_is_invalid_after_one_verification() {
        let pool = cheap_pool();
        let upstream_only = account(&pool, None).await;
        let before = started(&pool);
        assert_eq!(sign_in_with_password(&pool, Some(upstream_only), "").await, SignIn::Invalid);
        assert_eq!(started(&pool) - before, 1);
    }

    mod with_lockout {
        use super::*;
        use crate::memory::MemoryStore;
        use crate::{LockoutPolicy, LockoutStore};

        const T0: i64 = 1_700_000_000;

        fn locked_until(until: i64) -> LockoutState {
            LockoutState {
                failures: 10,
                window_started_at: Some(until - 1800),
                locked_until: Some(until),
                operator_locked: false,
            }
        }

        #[tokio::test]
        async fn a_locked_account_is_refused_even_with_the_right_password() {
            let pool = cheap_pool();
            let betty = account(&pool, Some("Rubble2020!")).await;
            let before = started(&pool);
            let outcome =
                verify_sign_in(&pool, Some(betty), Some(locked_until(T0 + 60)), "Rubble2020!", T0).await;
            assert_eq!(outcome, SignInOutcome::Locked { until: T0 + 60 });
            assert_eq!(started(&pool) - before, 1);
        }

        #[tokio::test]
        async fn the_right_password_works_again_when_the_lock_ends() {
            let pool = cheap_pool();
            let betty = account(&pool, Some("Rubble2020!")).await;
            let outcome =
                verify_sign_in(&pool, Some(betty.clone()), Some(locked_until(T0)), "Rubble2020!", T0).await;
            assert_eq!(outcome, SignInOutcome::Authenticated(betty));
        }

        #[tokio::test]
        async fn every_branch_costs_exactly_one_verification() {
            let pool = cheap_pool();
            let betty = account(&pool, Some("Rubble2020!")).await;
            let no_password = account(&pool, None).await;
            let cases = [
                (Some(betty.clone()), None, "Rubble2020!"),
                (Some(betty.clone()), Some(LockoutState::default()), "wrong"),
                (Some(betty.clone()), Some(locked_until(T0 + 60)), "wrong"),
                (Some(no_password), None, "x"),
                (None, None, "x"),
                (None, Some(locked_until(T0 + 60)), "x"),
            ];
            for (account, lockout, password) in cases {
                let before = started(&pool);
                verify_sign_in(&pool, account, lockout, password, T0).await;
                assert_eq!(started(&pool) - before, 1, "{lockout:?} {password}");
            }
        }

        #[tokio::test]
        async fn an_unknown_email_is_never_locked() {
            let pool = cheap_pool();
            let outcome = verify_sign_in(&pool, None, Some(locked_until(T0 + 60)), "x", T0).await;
            assert_eq!(outcome, SignInOutcome::Invalid { account_id: None });
        }

        #[tokio::test]
        async fn wrong_passwords_name_the_account_to_count_against() {
            let pool = cheap_pool();
            let betty = account(&pool, Some("Rubble2020!")).await;
            let outcome = verify_sign_in(&pool, Some(betty.clone()), None, "wrong", T0).await;
            assert_eq!(outcome, SignInOutcome::Invalid { account_id: Some(betty.id) });
        }

        /// The whole loop with the reference store: ten wrong passwords lock, the right one is
        /// then refused, and the unlock link's `clear_lockout` lets it in.
        #[tokio::test]
        async fn ten_failures_lock_and_clearing_unlocks() {
            let pool = cheap_pool();
            let store = MemoryStore::default();
            let policy = LockoutPolicy::default();
            let betty = account(&pool, Some("Rubble2020!")).await;
            let attempt = |password: &'static str, now: i64| {
                let (pool, betty, state) =
                    (pool.clone(), betty.clone(), store.lockout_state(&betty.id, now).unwrap());
                async move { verify_sign_in(&pool, Some(betty), Some(state), password, now).await }
            };
            for i in 0..10 {
                let outcome = attempt("wrong", T0 + i).await;
                let SignInOutcome::Invalid { account_id: Some(id) } = outcome else { panic!("{outcome:?}") };
                store.record_failed_sign_in(&id, &policy, T0 + i).unwrap();
            }
            assert_eq!(attempt("Rubble2020!", T0 + 10).await, SignInOutcome::Locked { until: T0 + 9 + 1800 });
            store.clear_lockout(&betty.id).unwrap();
            assert_eq!(attempt("Rubble2020!", T0 + 11).await, SignInOutcome::Authenticated(betty.clone()));
        }
    }
}
