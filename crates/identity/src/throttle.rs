//! Throttles: how often something may happen for one key (one email address and purpose, say).
//! A key allows one event per `min_interval_secs` and at most `max_per_window` per window; a
//! window starts with the first event after the previous one ended. The rule is here, pure; a
//! [`ThrottleStore`] applies it to its row without lost updates, so every node shares the count.
//!
//! Mail sends are keyed by the address typed, not by the account, so a throttled address
//! answers the same whether or not it has an account.

use crate::{Purpose, StoreError};

/// How often a key may fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Seconds between two events; 0 for none.
    pub min_interval_secs: i64,
    /// Events a window allows.
    pub max_per_window: u32,
    pub window_secs: i64,
}

/// What a key has done in its current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleState {
    pub window_started_at: i64,
    pub count: u32,
    pub last_at: i64,
}

/// Whether an event may happen now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    Allowed,
    /// Not before `retry_after` more seconds (at least 1).
    Limited {
        retry_after: i64,
    },
}

impl ThrottlePolicy {
    /// Decides an event at `now` for a key in `state` (`None`: never seen). Returns the answer
    /// and, when allowed, the state to store; a refused event changes nothing.
    pub fn decide(&self, state: Option<ThrottleState>, now: i64) -> (Throttle, Option<ThrottleState>) {
        let fresh = ThrottleState { window_started_at: now, count: 1, last_at: now };
        let Some(s) = state else {
            return (Throttle::Allowed, Some(fresh));
        };
        // Events are decided one after another under the key's lock, but each read its clock
        // before waiting for it: one that read the clock a second before the event stored ahead
        // of it happens, for the rule, at that event's time. Else, with no interval, it would be
        // refused for being "before" an event it raced with.
        let now = now.max(s.last_at);
        let next_allowed = s.last_at.saturating_add(self.min_interval_secs);
        if now < next_allowed {
            return (Throttle::Limited { retry_after: next_allowed - now }, None);
        }
        let window_ends = s.window_started_at.saturating_add(self.window_secs);
        if now >= window_ends {
            return (Throttle::Allowed, Some(fresh));
        }
        if s.count >= self.max_per_window {
            return (Throttle::Limited { retry_after: (window_ends - now).max(1) }, None);
        }
        (Throttle::Allowed, Some(ThrottleState { count: s.count + 1, last_at: now, ..s }))
    }
}

/// The key that throttles mail of `purpose` to the address `email` as typed (trimmed, any
/// case). The address is hashed so the table holds no plain emails.
pub fn mail_key(purpose: Purpose, email: &str) -> String {
    let address = tokens::TokenHash::of(&email.trim().to_lowercase());
    format!("mail:{}:{}", purpose.as_str(), address.as_str())
}

/// The key that counts sign-in attempts (password or typed code) for the address `email` as
/// typed. Like [`mail_key`] it is the typed address, hashed, so an address without an account
/// is limited the same way and the answer tells nothing.
pub fn sign_in_key(email: &str) -> String {
    let address = tokens::TokenHash::of(&email.trim().to_lowercase());
    format!("sign_in:{}", address.as_str())
}

pub trait ThrottleStore {
    /// Applies `policy` to `key` at `now` in one transaction: an allowed event is counted, a
    /// refused one changes nothing. Two nodes hitting one key at once are counted one after
    /// the other.
    fn hit(&self, key: &str, policy: &ThrottlePolicy, now: i64) -> Result<Throttle, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy =
        ThrottlePolicy { min_interval_secs: 30, max_per_window: 3, window_secs: 3600 };

    fn run(times: &[i64]) -> Vec<Throttle> {
        let mut state = None;
        times
            .iter()
            .map(|&now| {
                let (answer, next) = POLICY.decide(state, now);
                if next.is_some() {
                    state = next;
                }
                answer
            })
            .collect()
    }

    #[test]
    fn the_first_event_is_allowed() {
        assert_eq!(run(&[1000]), [Throttle::Allowed]);
    }

    #[test]
    fn an_event_inside_the_interval_waits_for_the_rest_of_it() {
        assert_eq!(
            run(&[1000, 1010, 1029, 1030]),
            [
                Throttle::Allowed,
                Throttle::Limited { retry_after: 20 },
                Throttle::Limited { retry_after: 1 },
                Throttle::Allowed
            ]
        );
    }

    #[test]
    fn a_full_window_waits_until_it_ends_and_then_starts_anew() {
        let answers = run(&[0, 100, 200, 300, 3599, 3600, 3700]);
        assert_eq!(
            answers,
            [
                Throttle::Allowed,
                Throttle::Allowed,
                Throttle::Allowed,
                Throttle::Limited { retry_after: 3300 },
                Throttle::Limited { retry_after: 1 },
                Throttle::Allowed,
                Throttle::Allowed,
            ]
        );
    }

    #[test]
    fn a_refused_event_does_not_count() {
        // Refused tries inside the interval do not push the next allowed time out.
        assert_eq!(run(&[0, 10, 20, 30])[3], Throttle::Allowed);
    }

    #[test]
    fn no_interval_means_only_the_window_counts() {
        let policy = ThrottlePolicy { min_interval_secs: 0, ..POLICY };
        let (_, s) = policy.decide(None, 5);
        let (second, s) = policy.decide(s, 5);
        let (third, s) = policy.decide(s, 5);
        let (fourth, _) = policy.decide(s, 5);
        assert_eq!([second, third], [Throttle::Allowed; 2]);
        assert_eq!(fourth, Throttle::Limited { retry_after: 3600 });
    }

    #[test]
    fn an_event_that_read_the_clock_before_the_one_stored_ahead_of_it_is_judged_at_its_time() {
        let policy = ThrottlePolicy { min_interval_secs: 0, ..POLICY };
        let (_, ahead) = policy.decide(None, 101);
        let (late, state) = policy.decide(ahead, 100);
        assert_eq!(late, Throttle::Allowed, "no interval: nothing to wait for");
        assert_eq!(state.map(|s| (s.count, s.last_at)), Some((2, 101)));
        // With an interval, it waits from the event ahead of it, not from its own clock.
        assert_eq!(POLICY.decide(ahead, 100).0, Throttle::Limited { retry_after: 30 });
    }

    #[test]
    fn mail_keys_ignore_case_and_spaces_and_hold_no_address() {
        let key = mail_key(Purpose::SignInCode, " Olive@Example.org ");
        assert_eq!(key, mail_key(Purpose::SignInCode, "olive@example.org"));
        assert_ne!(key, mail_key(Purpose::PasswordReset, "olive@example.org"));
        assert!(!key.contains("olive"));
        assert!(key.starts_with("mail:sign_in_code:"));
    }

    #[test]
    fn sign_in_keys_ignore_case_and_spaces_and_differ_from_mail_keys() {
        let key = sign_in_key(" Olive@Example.org ");
        assert_eq!(key, sign_in_key("olive@example.org"));
        assert!(key.starts_with("sign_in:") && !key.contains("olive"));
        assert_ne!(key, mail_key(Purpose::SignInCode, "olive@example.org"));
    }
}
