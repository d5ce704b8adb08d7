//! Lockout after repeated failed password checks (DESIGN.md, "Accounts"): after
//! `max_failures` failures within `window_secs` the account is locked for `cooldown_secs`, or
//! until the citizen follows an emailed "Unlock account?" link
//! ([`Purpose::Unlock`](crate::Purpose::Unlock), then [`LockoutStore::clear_lockout`]).
//!
//! Pure functions over a small state; time is a parameter (STYLE.md), so every boundary is
//! testable without sleeping. With N = `max_failures`, W = `window_secs`, C = `cooldown_secs`:
//!
//! ```text
//!                 failure                       failure, within W of the first,
//!   ┌─────────┐ (window starts) ┌─────────────┐ count reaches N      ┌──────────────────────┐
//!   │  Clear  │────────────────▶│ Counting k  │─────────────────────▶│ Locked until now + C │
//!   └─────────┘                 │  (k < N)    │                      └──────────────────────┘
//!     ▲    ▲                    └─────────────┘                        │ failures: no change
//!     │    │  success            │  ▲    │ failure after W:            │ now ≥ until: lock over;
//!     │    └─────────────────────┘  └────┘ new window, k = 1           │ next failure: k = 1
//!     └─── success, or "Unlock account?" link ─────────────────────────┘
//! ```
//!
//! The window is fixed (it starts at the first failure), so one row holds the state; across a
//! window boundary an attacker gets at most 2N − 2 guesses before the lock, still bounded.
//! Failures while locked change nothing: they neither extend the lock (which would let anyone
//! keep a citizen out for ever by guessing) nor count towards the next one.

use crate::{AccountId, StoreError};

/// When to lock. Defaults: 10 failures within 15 minutes lock for 30 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutPolicy {
    /// Failures that lock the account; 0 disables lockout. Default 10.
    pub max_failures: u32,
    /// Seconds from the first failure within which they count together. Default 900 (15 min).
    pub window_secs: i64,
    /// Seconds a lock lasts unless lifted by an unlock link. Default 1800 (30 min).
    pub cooldown_secs: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { max_failures: 10, window_secs: 15 * 60, cooldown_secs: 30 * 60 }
    }
}

/// One account's lockout state; the default is "clear". Times are unix seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockoutState {
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the current window's first failure happened; `None`: no failures counted.
    pub window_started_at: Option<i64>,
    /// Locked while `now < locked_until`.
    pub locked_until: Option<i64>,
    /// Locked by an operator (admin API): until an operator unlocks it, whatever the clock,
    /// an unlock link or a password reset say.
    pub operator_locked: bool,
}

/// The `until` of an operator's lock: it has none.
pub const OPERATOR_LOCK: i64 = i64::MAX;

impl LockoutState {
    /// The state after one more failed verification at `now`.
    pub fn after_failure(&self, policy: &LockoutPolicy, now: i64) -> LockoutState {
        if policy.max_failures == 0 {
            return LockoutState::default();
        }
        if self.is_locked(now).is_some() {
            return *self;
        }
        let window_open = self.locked_until.is_none()
            && self.window_started_at.is_some_and(|start| now < start.saturating_add(policy.window_secs));
        let (failures, window_started_at) = match self.window_started_at {
            Some(start) if window_open => (self.failures.saturating_add(1), start),
            // No window yet, the window is over, or a lock has ended: count afresh.
            _ => (1, now),
        };
        let locked_until =
            (failures >= policy.max_failures).then(|| now.saturating_add(policy.cooldown_secs));
        LockoutState {
            failures,
            window_started_at: Some(window_started_at),
            locked_until,
            operator_locked: false,
        }
    }

    /// `Some(until)` while locked at `now`; the lock ends exactly at `until`
    /// ([`OPERATOR_LOCK`] for an operator's lock, which ends only when an operator lifts it).
    pub fn is_locked(&self, now: i64) -> Option<i64> {
        if self.operator_locked {
            return Some(OPERATOR_LOCK);
        }
        self.locked_until.filter(|&until| now < until)
    }

    /// The state after a successful sign-in (or an unlock link): clear, but for an operator's
    /// lock, which only an operator lifts.
    pub fn after_success(&self) -> LockoutState {
        LockoutState { operator_locked: self.operator_locked, ..LockoutState::default() }
    }
}

/// What [`LockoutState::begin_attempt`] decided about a password check about to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordAttempt {
    /// The password may be checked. The attempt is already counted as a failure in the state
    /// (which is locked if it reached the threshold); a right password clears it again.
    Allowed(LockoutState),
    /// Locked before this attempt: refuse without checking the password.
    Locked(LockoutState),
}

impl LockoutState {
    /// Counts a password attempt *before* its check, so that parallel attempts cannot race past
    /// the threshold: each takes the count one step further under the store's row lock, and once
    /// the count locks the account every later attempt is refused unchecked. Checking first and
    /// counting afterwards would let N guesses sent at once all be checked while the count still
    /// read "clear" (OWASP ASVS 5.0 §6.3.1, limits on failed authentication attempts).
    pub fn begin_attempt(&self, policy: &LockoutPolicy, now: i64) -> PasswordAttempt {
        if self.is_locked(now).is_some() {
            return PasswordAttempt::Locked(*self);
        }
        PasswordAttempt::Allowed(self.after_failure(policy, now))
    }
}

/// What the sign-in page says when the account is locked. It names the way out in the guide's
/// words ("Unlock account?") and the time left, rounded up to whole minutes.
pub fn locked_message(until: i64, now: i64) -> String {
    if until == OPERATOR_LOCK {
        return "Your account has been locked by the city's support team. Contact support to have it \
                unlocked."
            .to_owned();
    }
    let minutes = (until.saturating_sub(now).max(0) + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!(
        "Your account is locked after too many failed sign-in attempts. Choose \"Unlock account?\" \
         to get an unlock link by email, or try again in {minutes} {unit}."
    )
}

/// Where lockout state lives. Implemented by the `store` crate; DESIGN.md keeps it in the
/// database so every node sees the same lock.
pub trait LockoutStore {
    /// Counts one failed password verification for `account` at `now` and returns the state
    /// after it ([`LockoutState::after_failure`]). One transaction, and no lost updates: N
    /// failures arriving in parallel must count N — and lock exactly when the count reaches
    /// `max_failures`, never later and never twice — so the read-modify-write runs under a row
    /// lock (`SELECT … FOR UPDATE` on PostgreSQL, a write transaction (`BEGIN IMMEDIATE`) on
    /// SQLite) or as one conditional `UPDATE … RETURNING` computing the same rule; never a plain
    /// read followed by a separate write.
    fn record_failed_sign_in(
        &self,
        account: &AccountId,
        policy: &LockoutPolicy,
        now: i64,
    ) -> Result<LockoutState, StoreError>;

    /// Counts a password attempt for `account` before its check, as
    /// [`LockoutState::begin_attempt`] decides, in one transaction under the same row lock as
    /// [`record_failed_sign_in`](Self::record_failed_sign_in): of N attempts arriving at once,
    /// at most `max_failures` are [`PasswordAttempt::Allowed`] before the lock. An allowed attempt whose
    /// password turns out right is undone with [`clear_lockout`](Self::clear_lockout).
    fn begin_password_attempt(
        &self,
        account: &AccountId,
        policy: &LockoutPolicy,
        now: i64,
    ) -> Result<PasswordAttempt, StoreError>;

    /// The account's state as stored, [`LockoutState::default`] when there is none. The store may
    /// drop a state whose lock and window are over at `now`; callers still ask
    /// [`LockoutState::is_locked`].
    fn lockout_state(&self, account: &AccountId, now: i64) -> Result<LockoutState, StoreError>;

    /// Clears the failures and their lock: after a successful sign-in, an unlock link, or a
    /// password reset. An operator's lock stays. Clearing an account with no state is not an
    /// error.
    fn clear_lockout(&self, account: &AccountId) -> Result<(), StoreError>;

    /// Sets or lifts an operator's lock (lifting also clears the failures).
    fn set_operator_lock(&self, account: &AccountId, locked: bool) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;

    const T0: i64 = 1_700_000_000;

    fn fail_times(policy: &LockoutPolicy, times: impl IntoIterator<Item = i64>) -> LockoutState {
        times.into_iter().fold(LockoutState::default(), |s, t| s.after_failure(policy, t))
    }

    #[test]
    fn an_operator_lock_holds_through_time_failures_and_success() {
        let policy = LockoutPolicy::default();
        let locked = LockoutState { operator_locked: true, ..LockoutState::default() };
        assert_eq!(locked.is_locked(T0), Some(OPERATOR_LOCK));
        assert_eq!(locked.is_locked(i64::MAX - 1), Some(OPERATOR_LOCK));
        assert_eq!(locked.after_failure(&policy, T0), locked, "failures while locked change nothing");
        assert!(locked.after_success().operator_locked);
        assert!(locked_message(OPERATOR_LOCK, T0).contains("support"));
    }

    #[test]
    fn defaults_are_ten_failures_in_fifteen_minutes_locking_for_thirty() {
        assert_eq!(
            LockoutPolicy::default(),
            LockoutPolicy { max_failures: 10, window_secs: 900, cooldown_secs: 1800 }
        );
    }

    #[test]
    fn n_minus_one_failures_do_not_lock_and_the_nth_does() {
        let policy = LockoutPolicy::default();
        let nine = fail_times(&policy, (0..9).map(|i| T0 + i * 60));
        assert_eq!(nine.failures, 9);
        assert_eq!(nine.is_locked(T0 + 540), None);
        let ten = nine.after_failure(&policy, T0 + 600);
        assert_eq!(ten.failures, 10);
        assert_eq!(ten.is_locked(T0 + 600), Some(T0 + 600 + 1800));
    }

    #[test]
    fn the_window_closes_exactly_window_secs_after_the_first_failure() {
        let policy = LockoutPolicy { max_failures: 3, window_secs: 900, cooldown_secs: 1800 };
        let two = fail_times(&policy, [T0, T0 + 10]);
        // One second before the window ends, the third failure still counts: locked.
        assert!(two.after_failure(&policy, T0 + 899).is_locked(T0 + 899).is_some());
        // At the end of the window, it starts a new window instead.
        let fresh = two.after_failure(&policy, T0 + 900);
        assert_eq!(
            fresh,
            LockoutState { failures: 1, window_started_at: Some(T0 + 900), ..LockoutState::default() }
        );
    }

    #[test]
    fn the_cooldown_lifts_the_lock_exactly_at_until() {
        let policy = LockoutPolicy { max_failures: 2, window_secs: 900, cooldown_secs: 1800 };
        let locked = fail_times(&policy, [T0, T0 + 5]);
        let until = T0 + 5 + 1800;
        assert_eq!(locked.is_locked(until - 1), Some(until));
        assert_eq!(locked.is_locked(until), None);
        // The next failure after the lock starts a fresh count; it does not re-lock at once.
        let after = locked.after_failure(&policy, until);
        assert_eq!(
            after,
            LockoutState { failures: 1, window_started_at: Some(until), ..LockoutState::default() }
        );
    }

    #[test]
    fn failures_while_locked_neither_count_nor_extend_the_lock() {
        let policy = LockoutPolicy { max_failures: 2, ..LockoutPolicy::default() };
        let locked = fail_times(&policy, [T0, T0 + 1]);
        let again = fail_times(&policy, [T0, T0 + 1, T0 + 100, T0 + 1000]);
        assert_eq!(again, locked);
    }

    #[test]
    fn success_resets_the_count() {
        let policy = LockoutPolicy::default();
        let nine = fail_times(&policy, (0..9).map(|i| T0 + i));
        let cleared = nine.after_success();
        assert_eq!(cleared, LockoutState::default());
        assert_eq!(cleared.after_failure(&policy, T0 + 10).failures, 1);
        assert_eq!(cleared.after_failure(&policy, T0 + 10).is_locked(T0 + 10), None);
    }

    #[test]
    fn zero_max_failures_disables_lockout() {
        let policy = LockoutPolicy { max_failures: 0, ..LockoutPolicy::default() };
        let state = fail_times(&policy, (0..100).map(|i| T0 + i));
        assert_eq!(state.is_locked(T0 + 100), None);
    }

    #[test]
    fn the_locked_message_says_how_to_unlock_and_how_long() {
        let text = locked_message(T0 + 1800, T0);
        assert!(text.contains("locked"), "{text}");
        assert!(text.contains("\"Unlock account?\""), "{text}");
        assert!(text.ends_with("try again in 30 minutes."), "{text}");
        assert!(locked_message(T0 + 61, T0).ends_with("in 2 minutes."));
        assert!(locked_message(T0 + 1, T0).ends_with("in 1 minute."));
    }

    #[test]
    fn an_attempt_is_counted_before_its_check_and_a_locked_account_allows_none() {
        let policy = LockoutPolicy { max_failures: 3, ..LockoutPolicy::default() };
        let two = fail_times(&policy, [T0, T0 + 1]);
        let PasswordAttempt::Allowed(third) = two.begin_attempt(&policy, T0 + 2) else { panic!("allowed") };
        assert_eq!(third, two.after_failure(&policy, T0 + 2), "counted as a failure already");
        assert!(third.is_locked(T0 + 2).is_some(), "the attempt that reaches the threshold locks");
        assert_eq!(third.begin_attempt(&policy, T0 + 3), PasswordAttempt::Locked(third), "and is the last");
        assert!(matches!(third.after_success().begin_attempt(&policy, T0 + 3), PasswordAttempt::Allowed(_)));
    }

    #[test]
    fn parallel_attempts_allow_exactly_max_failures_checks() {
        let store = std::sync::Arc::new(MemoryStore::default());
        let id = AccountId::from_stored("a".into());
        let policy = LockoutPolicy { max_failures: 5, ..LockoutPolicy::default() };
        let allowed = std::thread::scope(|s| {
            let handles: Vec<_> = (0..40)
                .map(|_| s.spawn(|| store.begin_password_attempt(&id, &policy, T0).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
        });
        assert_eq!(allowed.iter().filter(|a| matches!(a, PasswordAttempt::Allowed(_))).count(), 5);
        assert_eq!(store.lockout_state(&id, T0).unwrap().failures, 5);
    }

    #[test]
    fn parallel_failures_lock_once_at_the_threshold() {
        let store = std::sync::Arc::new(MemoryStore::default());
        let id = AccountId::from_stored("a".into());
        let policy = LockoutPolicy::default();
        let results: Vec<LockoutState> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..40).map(|_| s.spawn(|| store.record_failed_sign_in(&id, &policy, T0).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Each of the first ten counted once (1..=10); the rest saw the lock and changed nothing.
        let mut counts: Vec<u32> = results.iter().map(|s| s.failures).collect();
        counts.sort_unstable();
        assert_eq!(counts[..10], (1..=10).collect::<Vec<_>>()[..]);
        assert!(counts[10..].iter().all(|&c| c == 10));
        let state = store.lockout_state(&id, T0).unwrap();
        assert_eq!(state.is_locked(T0), Some(T0 + 1800));
        store.clear_lockout(&id).unwrap();
        assert_eq!(store.lockout_state(&id, T0).unwrap(), LockoutState::default());
    }
}
