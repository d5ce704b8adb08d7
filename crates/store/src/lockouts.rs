//! Lockout state after failed sign-ins (`identity::LockoutStore`). The rule is identity's
//! ([`LockoutState::after_failure`]); this module only persists it, without lost updates.

use diesel::prelude::*;
use identity::{AccountId, LockoutPolicy, LockoutState, LockoutStore, PasswordAttempt};

use crate::Store;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::lockouts;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = lockouts, primary_key(account_id), treat_none_as_null = true)]
struct LockoutRow {
    account_id: String,
    failures: i32,
    window_started_at: Option<i64>,
    locked_until: Option<i64>,
    operator_locked: bool,
}

impl LockoutRow {
    fn new(account_id: &str, state: &LockoutState) -> Self {
        LockoutRow {
            account_id: account_id.to_owned(),
            failures: i32::try_from(state.failures).unwrap_or(i32::MAX),
            window_started_at: state.window_started_at,
            locked_until: state.locked_until,
            operator_locked: state.operator_locked,
        }
    }
}

impl From<LockoutRow> for LockoutState {
    fn from(r: LockoutRow) -> Self {
        LockoutState {
            failures: u32::try_from(r.failures).unwrap_or(0),
            window_started_at: r.window_started_at,
            locked_until: r.locked_until,
            operator_locked: r.operator_locked,
        }
    }
}

/// The account's row, created clear if missing, locked for this transaction: on PostgreSQL by
/// `SELECT … FOR UPDATE` (the insert's unique race is `ON CONFLICT DO NOTHING`: the loser waits
/// for the winner's commit, then locks its row); on SQLite by the `IMMEDIATE` transaction
/// ([`Store::write_transaction`]) the caller runs this in.
fn lock_row(c: &mut DbConnection, account: &str) -> Result<LockoutRow, StoreError> {
    let clear = LockoutRow::new(account, &LockoutState::default());
    let row = match c {
        DbConnection::Postgresql(pg) => {
            diesel::insert_into(lockouts::table).values(&clear).on_conflict_do_nothing().execute(pg)?;
            lockouts::table.find(account).select(LockoutRow::as_select()).for_update().first(pg)?
        }
        DbConnection::Sqlite(lite) => {
            diesel::insert_or_ignore_into(lockouts::table).values(&clear).execute(lite)?;
            lockouts::table.find(account).select(LockoutRow::as_select()).first(lite)?
        }
    };
    Ok(row)
}

impl LockoutStore for Store {
    fn record_failed_sign_in(
        &self,
        account: &AccountId,
        policy: &LockoutPolicy,
        now: i64,
    ) -> Result<LockoutState, identity::StoreError> {
        let id = account.as_str();
        Ok(self.write_transaction(|c| {
            let before = LockoutState::from(lock_row(c, id)?);
            let after = before.after_failure(policy, now);
            if after != before {
                diesel::update(lockouts::table.find(id)).set(&LockoutRow::new(id, &after)).execute(c)?;
            }
            Ok(after)
        })?)
    }

    fn begin_password_attempt(
        &self,
        account: &AccountId,
        policy: &LockoutPolicy,
        now: i64,
    ) -> Result<PasswordAttempt, identity::StoreError> {
        let id = account.as_str();
        Ok(self.write_transaction(|c| {
            let before = LockoutState::from(lock_row(c, id)?);
            let attempt = before.begin_attempt(policy, now);
            if let PasswordAttempt::Allowed(after) = attempt
                && after != before
            {
                diesel::update(lockouts::table.find(id)).set(&LockoutRow::new(id, &after)).execute(c)?;
            }
            Ok(attempt)
        })?)
    }

    fn lockout_state(&self, account: &AccountId, _now: i64) -> Result<LockoutState, identity::StoreError> {
        let row = self.read(|c| {
            Ok(lockouts::table.find(account.as_str()).select(LockoutRow::as_select()).first(c).optional()?)
        })?;
        Ok(row.map(LockoutState::from).unwrap_or_default())
    }

    fn clear_lockout(&self, account: &AccountId) -> Result<(), identity::StoreError> {
        // An operator's lock stays (and keeps its row); anything else goes with the row.
        self.transaction(|c| {
            let row = lockouts::table.find(account.as_str());
            diesel::delete(row.filter(lockouts::operator_locked.eq(false))).execute(c)?;
            let cleared = (
                lockouts::failures.eq(0),
                lockouts::window_started_at.eq(None::<i64>),
                lockouts::locked_until.eq(None::<i64>),
            );
            Ok(diesel::update(row).set(cleared).execute(c)?)
        })?;
        Ok(())
    }

    fn set_operator_lock(&self, account: &AccountId, locked: bool) -> Result<(), identity::StoreError> {
        let id = account.as_str();
        self.write_transaction(|c| {
            let row =
                LockoutRow::new(id, &LockoutState { operator_locked: locked, ..LockoutState::default() });
            if locked {
                lock_row(c, id)?;
                diesel::update(lockouts::table.find(id)).set(&row).execute(c)?;
            } else {
                diesel::delete(lockouts::table.find(id)).execute(c)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}
