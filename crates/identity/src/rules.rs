//! The whole password rule set: the [`PasswordPolicy`] composition rules, plus the two rules
//! that need more than the password itself — not a common password (a shipped list) and none of
//! the last N passwords (the stored history, checked on the [`HashPool`]).
//!
//! The history is kept as argon2 hashes, so checking it costs one argon2 verification per entry
//! (~42 ms of a core each, DESIGN.md "Cost model"). That is why the depth is bounded
//! ([`MAX_HISTORY_DEPTH`]) and why the entries are checked one after another: a password change
//! takes at most one pool thread at a time, and sign-ins keep the others.

use crate::{AccountId, Email, HashPool, PasswordPolicy, PolicyViolation, StoreError};

/// The most history entries ever checked, whatever the configuration says: each costs an argon2
/// verification, so a typo like `history_depth = 1000` must not make a password change take 40 s.
pub const MAX_HISTORY_DEPTH: usize = 24;

/// Every password rule. Defaults follow the guides: [`PasswordPolicy::default`], none of the last
/// 10 passwords, no common passwords.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordRules {
    /// The composition rules.
    pub policy: PasswordPolicy,
    /// How many of the account's passwords, the current one included, a new one must differ
    /// from; 0 disables the rule. Default 10, at most [`MAX_HISTORY_DEPTH`] (24).
    pub history_depth: usize,
    /// Reject passwords on the shipped list of the 10,000 most common ones, ignoring case.
    /// Default true.
    pub reject_common: bool,
}

impl Default for PasswordRules {
    fn default() -> Self {
        Self { policy: PasswordPolicy::default(), history_depth: 10, reject_common: true }
    }
}

impl PasswordRules {
    /// The history depth actually enforced: `history_depth` capped at [`MAX_HISTORY_DEPTH`].
    /// Also how many hashes [`PasswordHistoryStore::change_password`] should keep.
    pub fn effective_history_depth(&self) -> usize {
        self.history_depth.min(MAX_HISTORY_DEPTH)
    }

    /// Every rule `password` breaks, so the citizen can fix them all at once: the policy's
    /// violations (in [`PasswordPolicy::rules`] order), then [`PolicyViolation::Common`], then
    /// [`PolicyViolation::Reused`]. `history` is the account's password hashes newest first, the
    /// current one first ([`PasswordHistoryStore::password_history`]); only the first
    /// [`effective_history_depth`](Self::effective_history_depth) are checked, one argon2
    /// verification each, stopping at the first match.
    pub async fn violations(
        &self,
        pool: &HashPool,
        password: &str,
        email: &Email,
        names: &[&str],
        history: &[String],
    ) -> Vec<PolicyViolation> {
        let mut broken = self.policy.violations(password, email, names);
        if self.reject_common && crate::common::is_common(password) {
            broken.push(PolicyViolation::Common);
        }
        let depth = self.effective_history_depth();
        for phc in history.iter().take(depth) {
            if pool.verify(password.to_owned(), Some(phc.clone())).await {
                broken.push(PolicyViolation::Reused { depth });
                break;
            }
        }
        broken
    }

    /// The rules as sentences, in the guide's wording: the policy's, then "Not a commonly used
    /// password" and "None of your last 10 passwords" when enabled.
    pub fn rules(&self) -> Vec<String> {
        let mut rules = self.policy.rules();
        if self.reject_common {
            rules.push("Not a commonly used password".to_owned());
        }
        match self.effective_history_depth() {
            0 => {}
            1 => rules.push("Not your current password".to_owned()),
            n => rules.push(format!("None of your last {n} passwords")),
        }
        rules
    }
}

/// Where password history lives. Implemented by the `store` crate.
pub trait PasswordHistoryStore {
    /// The account's password hashes, newest first, beginning with its current one (however it
    /// was set, [`create_account`](crate::AccountStore::create_account) included), at most
    /// `limit`. An unknown account or one without a password has an empty history.
    fn password_history(&self, account: &AccountId, limit: usize) -> Result<Vec<String>, StoreError>;

    /// Sets a new password, in one transaction: the account's `password_hash` becomes
    /// `password_hash`, the hash joins the history at `now`, and history beyond the `keep` newest
    /// entries is deleted ([`PasswordRules::effective_history_depth`]; 0 keeps none).
    ///
    /// The history check and this write are two steps; two changes racing for one account can
    /// both pass the check. That is the citizen racing themselves, and it is accepted.
    fn change_password(
        &self,
        account: &AccountId,
        password_hash: &str,
        keep: usize,
        now: i64,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::password::tests::{cheap_pool, started};
    use PolicyViolation::*;

    fn email() -> Email {
        Email::parse("betty@x.org").unwrap()
    }

    /// Sets `passwords` one after another, oldest first, keeping `keep`; returns the history.
    async fn history_of(pool: &HashPool, passwords: &[String], keep: usize) -> Vec<String> {
        let store = MemoryStore::default();
        let id = AccountId::from_stored("a".into());
        for (i, p) in passwords.iter().enumerate() {
            let phc = pool.hash(p.clone()).await.unwrap();
            store.change_password(&id, &phc, keep, i as i64).unwrap();
        }
        store.password_history(&id, usize::MAX).unwrap()
    }

    fn numbered(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("Xylophone{i:02}!")).collect()
    }

    #[tokio::test]
    async fn each_of_the_last_n_passwords_is_refused_and_the_one_before_is_allowed() {
        let pool = cheap_pool();
        let rules = PasswordRules { history_depth: 3, ..PasswordRules::default() };
        // Passwords 1..=4 set in turn; the store keeps what the rules need.
        let all = numbered(4);
        let history = history_of(&pool, &all, usize::MAX).await;
        assert_eq!(history.len(), 4);
        for recent in &all[1..] {
            let v = rules.violations(&pool, recent, &email(), &[], &history).await;
            assert_eq!(v, vec![Reused { depth: 3 }], "{recent}");
        }
        // The 4th most recent (N+1th) is allowed again.
        assert_eq!(rules.violations(&pool, &all[0], &email(), &[], &history).await, vec![]);
    }

    #[tokio::test]
    async fn default_depth_is_ten_including_the_current_password() {
        let pool = cheap_pool();
        let rules = PasswordRules::default();
        assert_eq!(rules.history_depth, 10);
        let all = numbered(11);
        let history = history_of(&pool, &all, rules.effective_history_depth()).await;
        assert_eq!(history.len(), 10, "the store keeps exactly the depth");
        let current = &all[10];
        assert_eq!(
            rules.violations(&pool, current, &email(), &[], &history).await,
            vec![Reused { depth: 10 }]
        );
        assert_eq!(
            rules.violations(&pool, &all[1], &email(), &[], &history).await,
            vec![Reused { depth: 10 }]
        );
        assert_eq!(rules.violations(&pool, &all[0], &email(), &[], &history).await, vec![]);
    }

    #[tokio::test]
    async fn history_check_costs_at_most_depth_verifications() {
        let pool = cheap_pool();
        let history = history_of(&pool, &numbered(6), usize::MAX).await;
        let rules = PasswordRules { history_depth: 4, ..PasswordRules::default() };
        let before = started(&pool);
        assert_eq!(rules.violations(&pool, "Fresh-Pass-77", &email(), &[], &history).await, vec![]);
        assert_eq!(started(&pool) - before, 4);
        // A match stops the search: the current password costs one verification.
        let before = started(&pool);
        rules.violations(&pool, "Xylophone06!", &email(), &[], &history).await;
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn depth_is_capped_and_zero_disables_the_history_rule() {
        let pool = cheap_pool();
        let huge = PasswordRules { history_depth: 1000, ..PasswordRules::default() };
        assert_eq!(huge.effective_history_depth(), MAX_HISTORY_DEPTH);
        let history = history_of(&pool, &numbered(1), usize::MAX).await;
        let off = PasswordRules { history_depth: 0, ..PasswordRules::default() };
        let before = started(&pool);
        assert_eq!(off.violations(&pool, "Xylophone01!", &email(), &[], &history).await, vec![]);
        assert_eq!(started(&pool), before);
    }

    #[tokio::test]
    async fn common_passwords_are_refused_unless_disabled() {
        let pool = cheap_pool();
        let rules = PasswordRules::default();
        // Meets every composition rule, and is still one of the most used passwords.
        assert_eq!(rules.violations(&pool, "Password1", &email(), &[], &[]).await, vec![Common]);
        let off = PasswordRules { reject_common: false, ..PasswordRules::default() };
        assert_eq!(off.violations(&pool, "Password1", &email(), &[], &[]).await, vec![]);
    }

    #[tokio::test]
    async fn every_broken_rule_is_reported_at_once() {
        let pool = cheap_pool();
        let history = history_of(&pool, &["password".to_owned()], usize::MAX).await;
        let v = PasswordRules::default().violations(&pool, "password", &email(), &["Pass"], &history).await;
        assert_eq!(v, vec![NoUppercase, NoDigit, ContainsUsernamePart, Common, Reused { depth: 10 }]);
    }

    #[test]
    fn rules_list_the_extra_rules_in_guide_wording() {
        let rules = PasswordRules::default().rules();
        assert_eq!(
            rules[5..],
            ["Not a commonly used password".to_owned(), "None of your last 10 passwords".to_owned()]
        );
        let minimal = PasswordRules { history_depth: 1, reject_common: false, ..PasswordRules::default() };
        assert_eq!(minimal.rules().last().map(String::as_str), Some("Not your current password"));
    }

    #[test]
    fn rules_deserialize_with_defaults_and_reject_unknown_keys() {
        let r: PasswordRules =
            serde_json::from_str(r#"{"history_depth": 5, "policy": {"min_length": 12}}"#).unwrap();
        assert_eq!(r.history_depth, 5);
        assert_eq!(r.policy.min_length, 12);
        assert!(r.reject_common);
        assert!(serde_json::from_str::<PasswordRules>(r#"{"history": 5}"#).is_err());
    }
}
