//! Signing-key rotation: when a key is published, when it signs, and when it goes.
//!
//! ```text
//!   inserted ──(publish lead)──▶ activates_at ──────────▶ retires_at ──(retain)──▶ gone
//!   Pending: in the JWKS,        Active: signs new        Retired: in the JWKS, so tokens it
//!   signs nothing                tokens                   signed still verify until they expire
//! ```
//!
//! A rotation inserts a key that activates after a lead longer than the interval at which nodes
//! reload their keys, and retires the current key at that same instant: every node publishes
//! the new key before any node signs with it, and exactly one key per algorithm is active at any
//! time. A retired key stays published for `retain` seconds (the longest token lifetime plus a
//! reload interval) and is then dropped from the JWKS.

use crate::{Algorithm, StoredKey};

/// Where a key is in its life at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Active,
    Retired,
    /// Past its retention: neither published nor loaded.
    Expired,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Expired => "expired",
        }
    }
}

impl StoredKey {
    /// The key's phase at `now`, when retired keys are kept `retain_secs`.
    pub fn phase(&self, now: i64, retain_secs: i64) -> Phase {
        match self.retires_at {
            _ if now < self.activates_at => Phase::Pending,
            Some(r) if now >= r.saturating_add(retain_secs) => Phase::Expired,
            Some(r) if now >= r => Phase::Retired,
            _ => Phase::Active,
        }
    }
}

/// Of `keys` (one algorithm's, any phase but expired), the one that signs at `now`: the active
/// key that activated last; without one (a clock step, say), the key retired last; without
/// that, the pending key due first.
pub fn signer_of<'a>(keys: impl Iterator<Item = &'a StoredKey> + Clone, now: i64) -> Option<&'a StoredKey> {
    let live = |k: &&StoredKey| k.phase(now, i64::MAX) == Phase::Active;
    keys.clone()
        .filter(live)
        .max_by_key(|k| (k.activates_at, k.created_at))
        .or_else(|| {
            keys.clone().filter(|k| k.phase(now, i64::MAX) == Phase::Retired).max_by_key(|k| k.retires_at)
        })
        .or_else(|| keys.min_by_key(|k| k.activates_at))
}

/// When a rotation should happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotateWhen {
    /// Now (`gatehouse keys rotate`).
    Now,
    /// Only if the active key activated at least this many seconds ago (the schedule).
    OlderThan(i64),
}

/// What a rotation of one algorithm's keys comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Insert the new key (activating at `at`) and retire these keys at `at`.
    Rotate { at: i64, retire: Vec<String> },
    /// A key of this algorithm is already waiting to take over.
    AlreadyPending { kid: String, activates_at: i64 },
    /// The active key is younger than the schedule asks.
    NotDue,
}

/// Decides a rotation of `alg` at `now` among the stored `keys` (every algorithm's), with the
/// new key activating `lead_secs` from now. The store applies the answer in the transaction in
/// which it read `keys`, so two nodes on one schedule rotate once.
pub fn plan(keys: &[StoredKey], alg: Algorithm, now: i64, lead_secs: i64, when: RotateWhen) -> Rotation {
    let of_alg = keys.iter().filter(|k| k.alg == alg.as_str());
    if let Some(pending) = of_alg.clone().find(|k| k.phase(now, i64::MAX) == Phase::Pending) {
        return Rotation::AlreadyPending { kid: pending.kid.clone(), activates_at: pending.activates_at };
    }
    if let RotateWhen::OlderThan(age) = when
        && signer_of(of_alg.clone(), now).is_some_and(|k| now - k.activates_at < age)
    {
        return Rotation::NotDue;
    }
    let at = now + lead_secs;
    let retire = of_alg.filter(|k| k.retires_at.is_none_or(|r| r > at)).map(|k| k.kid.clone()).collect();
    Rotation::Rotate { at, retire }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, alg: &str, activates_at: i64, retires_at: Option<i64>) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: alg.into(),
            sealed_private_key: vec![],
            created_at: activates_at - 5,
            activates_at,
            retires_at,
        }
    }

    #[test]
    fn a_key_is_pending_then_active_then_retired_then_expired() {
        let k = key("a", "ES256", 100, Some(200));
        assert_eq!(k.phase(99, 50), Phase::Pending);
        assert_eq!(k.phase(100, 50), Phase::Active);
        assert_eq!(k.phase(199, 50), Phase::Active);
        assert_eq!(k.phase(200, 50), Phase::Retired);
        assert_eq!(k.phase(249, 50), Phase::Retired);
        assert_eq!(k.phase(250, 50), Phase::Expired);
        assert_eq!(key("b", "ES256", 100, None).phase(i64::MAX - 1, 50), Phase::Active);
    }

    #[test]
    fn the_signer_is_the_active_key_and_a_pending_one_waits() {
        let old = key("old", "ES256", 100, Some(500));
        let new = key("new", "ES256", 500, None);
        let keys = [old.clone(), new.clone()];
        assert_eq!(signer_of(keys.iter(), 499).map(|k| k.kid.as_str()), Some("old"));
        assert_eq!(signer_of(keys.iter(), 500).map(|k| k.kid.as_str()), Some("new"));
        // Only retired or only pending keys: still someone signs.
        assert_eq!(signer_of([old.clone()].iter(), 600).map(|k| k.kid.as_str()), Some("old"));
        assert_eq!(signer_of([new].iter(), 10).map(|k| k.kid.as_str()), Some("new"));
        assert_eq!(signer_of([].iter(), 10), None);
    }

    #[test]
    fn a_rotation_retires_the_current_key_when_the_new_one_activates() {
        let keys = [key("rs", "RS256", 100, None), key("es", "ES256", 100, None)];
        assert_eq!(
            plan(&keys, Algorithm::Es256, 1000, 300, RotateWhen::Now),
            Rotation::Rotate { at: 1300, retire: vec!["es".into()] }
        );
    }

    #[test]
    fn a_second_rotation_waits_for_the_pending_key() {
        let keys = [key("old", "ES256", 100, Some(1300)), key("new", "ES256", 1300, None)];
        assert_eq!(
            plan(&keys, Algorithm::Es256, 1000, 300, RotateWhen::Now),
            Rotation::AlreadyPending { kid: "new".into(), activates_at: 1300 }
        );
        // Once it is active, the next rotation retires it and leaves the retired one alone.
        assert_eq!(
            plan(&keys, Algorithm::Es256, 2000, 300, RotateWhen::Now),
            Rotation::Rotate { at: 2300, retire: vec!["new".into()] }
        );
    }

    #[test]
    fn the_schedule_rotates_only_an_old_enough_key() {
        let keys = [key("es", "ES256", 1000, None)];
        let when = RotateWhen::OlderThan(500);
        assert_eq!(plan(&keys, Algorithm::Es256, 1499, 60, when), Rotation::NotDue);
        assert!(matches!(plan(&keys, Algorithm::Es256, 1500, 60, when), Rotation::Rotate { .. }));
    }
}
