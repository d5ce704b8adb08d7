//! An in-memory store for unit tests: the reference behaviour of the store traits, one mutex
//! standing in for each method's transaction. The real stores are tested by the `store` crate's
//! contract tests against SQLite and PostgreSQL.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokens::TokenHash;

use crate::{
    AccountId, Consume, LockoutPolicy, LockoutState, LockoutStore, NewOneTimeCode, OneTimeCode,
    OneTimeCodeStore, PasswordHistoryStore, Purpose, StoreError, judge_link, judge_typed_code,
};

#[derive(Default)]
pub(crate) struct MemoryStore {
    inner: Mutex<Tables>,
}

#[derive(Default)]
struct Tables {
    /// Newest first.
    history: HashMap<AccountId, Vec<String>>,
    lockouts: HashMap<AccountId, LockoutState>,
    codes: Vec<OneTimeCode>,
}

impl MemoryStore {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.inner.lock().unwrap()
    }

    /// How many codes are stored, live or not.
    pub(crate) fn code_count(&self) -> usize {
        self.tables().codes.len()
    }
}

impl PasswordHistoryStore for MemoryStore {
    fn password_history(&self, account: &AccountId, limit: usize) -> Result<Vec<String>, StoreError> {
        let t = self.tables();
        Ok(t.history.get(account).map(|h| h.iter().take(limit).cloned().collect()).unwrap_or_default())
    }

    fn change_password(
        &self,
        account: &AccountId,
        hash: &str,
        keep: usize,
        _now: i64,
    ) -> Result<(), StoreError> {
        let mut t = self.tables();
        let history = t.history.entry(account.clone()).or_default();
        history.insert(0, hash.to_owned());
        history.truncate(keep);
        Ok(())
    }
}

impl LockoutStore for MemoryStore {
    fn record_failed_sign_in(
        &self,
        account: &AccountId,
        policy: &LockoutPolicy,
        now: i64,
    ) -> Result<LockoutState, StoreError> {
        let mut t = self.tables();
        let state = t.lockouts.entry(account.clone()).or_default();
        *state = state.after_failure(policy, now);
        Ok(*state)
    }

    fn begin_password_attempt(
        &self,
        account: &AccountId,
        policy: &LockoutPolicy,
        now: i64,
    ) -> Result<crate::lockout::PasswordAttempt, StoreError> {
        let mut t = self.tables();
        let state = t.lockouts.entry(account.clone()).or_default();
        let attempt = state.begin_attempt(policy, now);
        if let crate::lockout::PasswordAttempt::Allowed(after) = attempt {
            *state = after;
        }
        Ok(attempt)
    }

    fn lockout_state(&self, account: &AccountId, _now: i64) -> Result<LockoutState, StoreError> {
        Ok(self.tables().lockouts.get(account).copied().unwrap_or_default())
    }

    fn clear_lockout(&self, account: &AccountId) -> Result<(), StoreError> {
        let mut t = self.tables();
        if let Some(state) = t.lockouts.get_mut(account) {
            *state = state.after_success();
        }
        Ok(())
    }

    fn set_operator_lock(&self, account: &AccountId, locked: bool) -> Result<(), StoreError> {
        let state = LockoutState { operator_locked: locked, ..LockoutState::default() };
        self.tables().lockouts.insert(account.clone(), state);
        Ok(())
    }
}

impl OneTimeCodeStore for MemoryStore {
    fn replace_code(&self, code: &NewOneTimeCode) -> Result<(), StoreError> {
        let mut t = self.tables();
        t.codes.retain(|c| !(c.account_id == code.account_id && c.purpose == code.purpose));
        t.codes.push(code.clone().into());
        Ok(())
    }

    fn consume_link(&self, hash: &TokenHash, purpose: Purpose, now: i64) -> Result<Consume, StoreError> {
        let mut t = self.tables();
        let row = t.codes.iter_mut().find(|c| &c.code_hash == hash);
        let outcome = judge_link(row.as_deref(), purpose, now);
        if let (Consume::Accepted { .. }, Some(row)) = (&outcome, row) {
            row.used_at = Some(now);
        }
        Ok(outcome)
    }

    fn peek_link(&self, hash: &TokenHash, purpose: Purpose, now: i64) -> Result<Consume, StoreError> {
        let t = self.tables();
        Ok(judge_link(t.codes.iter().find(|c| &c.code_hash == hash), purpose, now))
    }

    fn attempt_typed_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        presented: &TokenHash,
        now: i64,
        max_tries: u32,
    ) -> Result<Consume, StoreError> {
        let mut t = self.tables();
        let row = t.codes.iter_mut().find(|c| &c.account_id == account && c.purpose == purpose);
        let attempt = judge_typed_code(row.as_deref(), purpose, presented, now, max_tries);
        if let Some(row) = row {
            if attempt.counts_try {
                row.tries += 1;
            }
            if matches!(attempt.outcome, Consume::Accepted { .. }) {
                row.used_at = Some(now);
            }
        }
        Ok(attempt.outcome)
    }
}
