//! The session inactivity timeout (OWASP ASVS 5.0 7.3.1; Keycloak's "SSO Session Idle" beside
//! "SSO Session Max"): a browser session unused for `ttl` seconds (`persistent_ttl` with "Keep
//! me signed in") is dead, as if it had reached its absolute expiry.
//!
//! A use is a request that found the session live. Recording every use would cost a write per
//! request, so a session's `last_seen_at` moves only once it is at least one *step* old: 60 s,
//! or a tenth of the limit when that is shorter (at least 1 s). A use may therefore go
//! unrecorded for up to `step - 1` seconds, and the check allows that slack: a session is
//! refused once more than `ttl` and at most `ttl + step` seconds have passed since its last use
//! (with the defaults, between 30 and 31 minutes).
//!
//! ```text
//!   last_seen_at ── use ──▶ (now - last_seen_at < step)            Live, nothing written
//!                └─ use ──▶ (step <= now - last_seen_at < ttl+step) Live, last_seen_at := now
//!                └─ use ──▶ (now - last_seen_at >= ttl + step)       IdleExpired
//! ```

/// The longest step between two recorded uses, seconds: a busy citizen costs at most one write
/// a minute.
pub const MAX_IDLE_STEP: i64 = 60;

/// How long a session may go unused, seconds; 0 turns the limit off for that kind of session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdleTimeout {
    /// Sessions without "Keep me signed in".
    pub ttl: i64,
    /// Sessions with "Keep me signed in".
    pub persistent_ttl: i64,
}

/// What a use of a live session at `now` means for its inactivity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleCheck {
    /// Unused too long: the session signs nobody in, as if expired.
    IdleExpired,
    /// Live; `record` says whether to move `last_seen_at` to `now` (it is a step old).
    Live { record: bool },
}

impl IdleTimeout {
    /// No inactivity limit for any session (uses are still recorded once a minute).
    pub const OFF: IdleTimeout = IdleTimeout { ttl: 0, persistent_ttl: 0 };

    /// The limit for a session, `None` when off.
    pub fn limit(&self, persistent: bool) -> Option<i64> {
        let ttl = if persistent { self.persistent_ttl } else { self.ttl };
        (ttl > 0).then_some(ttl)
    }

    /// The least age of `last_seen_at` at which a use is recorded.
    pub fn step(&self, persistent: bool) -> i64 {
        self.limit(persistent).map_or(MAX_IDLE_STEP, |ttl| (ttl / 10).clamp(1, MAX_IDLE_STEP))
    }

    /// The newest `last_seen_at` that is idle-expired at `now`; `None` when there is no limit.
    /// For queries over many sessions (the purge): a session is dead iff `last_seen_at <= cutoff`.
    pub fn cutoff(&self, persistent: bool, now: i64) -> Option<i64> {
        let ttl = self.limit(persistent)?;
        Some(now.saturating_sub(ttl.saturating_add(self.step(persistent))))
    }

    /// Judges a use at `now` of a session (not past its absolute expiry) last seen at
    /// `last_seen_at`.
    pub fn check(&self, last_seen_at: i64, persistent: bool, now: i64) -> IdleCheck {
        if self.cutoff(persistent, now).is_some_and(|cutoff| last_seen_at <= cutoff) {
            return IdleCheck::IdleExpired;
        }
        IdleCheck::Live { record: now.saturating_sub(last_seen_at) >= self.step(persistent) }
    }

    /// Whether a session last seen at `last_seen_at` is idle-expired at `now`.
    pub fn is_expired(&self, last_seen_at: i64, persistent: bool, now: i64) -> bool {
        self.check(last_seen_at, persistent, now) == IdleCheck::IdleExpired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000;
    const DEFAULTS: IdleTimeout = IdleTimeout { ttl: 1800, persistent_ttl: 0 };

    #[test]
    fn the_step_is_a_minute_or_a_tenth_of_the_limit_and_at_least_a_second() {
        assert_eq!(DEFAULTS.step(false), 60);
        assert_eq!(IdleTimeout { ttl: 300, persistent_ttl: 0 }.step(false), 30);
        assert_eq!(IdleTimeout { ttl: 2, persistent_ttl: 0 }.step(false), 1);
        assert_eq!(DEFAULTS.step(true), 60, "no limit: uses are still recorded once a minute");
        assert_eq!(IdleTimeout { ttl: 0, persistent_ttl: 86_400 }.step(true), 60);
    }

    #[test]
    fn a_use_within_a_step_writes_nothing_and_one_a_step_later_is_recorded() {
        assert_eq!(DEFAULTS.check(T0, false, T0), IdleCheck::Live { record: false });
        assert_eq!(DEFAULTS.check(T0, false, T0 + 59), IdleCheck::Live { record: false });
        assert_eq!(DEFAULTS.check(T0, false, T0 + 60), IdleCheck::Live { record: true });
        assert_eq!(DEFAULTS.check(T0, false, T0 + 1000), IdleCheck::Live { record: true });
    }

    #[test]
    fn a_session_unused_longer_than_the_limit_plus_its_step_is_idle_expired() {
        // Alive up to ttl + step - 1 seconds after the recorded use, dead from ttl + step.
        assert_eq!(DEFAULTS.check(T0, false, T0 + 1859), IdleCheck::Live { record: true });
        assert_eq!(DEFAULTS.check(T0, false, T0 + 1860), IdleCheck::IdleExpired);
        assert!(DEFAULTS.is_expired(T0, false, T0 + 100_000));
        assert_eq!(DEFAULTS.cutoff(false, T0 + 1860), Some(T0));
    }

    #[test]
    fn the_slack_never_ends_a_session_before_the_limit_of_real_inactivity() {
        // The citizen's last use at `used` was not recorded: the recorded one is a step - 1
        // older. The session still lives `ttl` seconds after `used`.
        let policy = IdleTimeout { ttl: 1800, persistent_ttl: 0 };
        let recorded = T0;
        let used = recorded + policy.step(false) - 1;
        assert_eq!(policy.check(recorded, false, used), IdleCheck::Live { record: false });
        assert!(!policy.is_expired(recorded, false, used + 1800));
        assert!(policy.is_expired(recorded, false, used + 1801));
    }

    #[test]
    fn each_kind_of_session_has_its_own_limit_and_zero_turns_it_off() {
        assert!(!DEFAULTS.is_expired(T0, true, T0 + 10 * 365 * 86_400), "persistent: no idle limit");
        assert_eq!(DEFAULTS.cutoff(true, T0), None);
        let both = IdleTimeout { ttl: 600, persistent_ttl: 7 * 86_400 };
        assert!(both.is_expired(T0, false, T0 + 660));
        assert!(!both.is_expired(T0, true, T0 + 660));
        assert!(both.is_expired(T0, true, T0 + 7 * 86_400 + 60));
        assert!(!IdleTimeout::OFF.is_expired(T0, false, i64::MAX));
    }

    #[test]
    fn a_last_use_ahead_of_the_clock_is_live_and_not_recorded_again() {
        // Another node with a clock a few seconds ahead recorded the last use.
        assert_eq!(DEFAULTS.check(T0 + 5, false, T0), IdleCheck::Live { record: false });
    }
}
