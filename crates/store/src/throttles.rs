//! Throttle windows (`identity::ThrottleStore`). The rule is identity's
//! ([`ThrottlePolicy::decide`]); this module applies it to the key's row without lost updates.

use diesel::prelude::*;
use identity::{Throttle, ThrottlePolicy, ThrottleState, ThrottleStore};

use crate::Store;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::throttles;

/// Rows whose last event is older than this are deleted on the way (no window is longer).
const KEEP_SECS: i64 = 24 * 60 * 60;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = throttles, primary_key(key))]
struct ThrottleRow {
    key: String,
    window_started_at: i64,
    count: i32,
    last_at: i64,
}

impl ThrottleRow {
    fn state(&self) -> ThrottleState {
        ThrottleState {
            window_started_at: self.window_started_at,
            count: u32::try_from(self.count).unwrap_or(u32::MAX),
            last_at: self.last_at,
        }
    }
}

/// The key's row, created blank if missing (a blank row decides like a key never seen),
/// locked for this transaction: on PostgreSQL by `SELECT … FOR UPDATE` (two first events race
/// on the insert's `ON CONFLICT DO NOTHING`; the loser waits for the winner's commit); on SQLite
/// by the `IMMEDIATE` transaction the caller runs this in.
fn lock_row(c: &mut DbConnection, key: &str) -> Result<ThrottleRow, StoreError> {
    let blank = ThrottleRow { key: key.to_owned(), window_started_at: i64::MIN, count: 0, last_at: i64::MIN };
    let row = match c {
        DbConnection::Postgresql(pg) => {
            diesel::insert_into(throttles::table).values(&blank).on_conflict_do_nothing().execute(pg)?;
            throttles::table.find(key).select(ThrottleRow::as_select()).for_update().first(pg)?
        }
        DbConnection::Sqlite(lite) => {
            diesel::insert_or_ignore_into(throttles::table).values(&blank).execute(lite)?;
            throttles::table.find(key).select(ThrottleRow::as_select()).first(lite)?
        }
    };
    Ok(row)
}

impl ThrottleStore for Store {
    fn hit(&self, key: &str, policy: &ThrottlePolicy, now: i64) -> Result<Throttle, identity::StoreError> {
        Ok(self.write_transaction(|c| {
            let row = lock_row(c, key)?;
            let (answer, next) = policy.decide(Some(row.state()), now);
            if let Some(next) = next {
                let new = ThrottleRow {
                    key: key.to_owned(),
                    window_started_at: next.window_started_at,
                    count: i32::try_from(next.count).unwrap_or(i32::MAX),
                    last_at: next.last_at,
                };
                diesel::update(throttles::table.find(key)).set(&new).execute(c)?;
                if row.count == 0 {
                    // A new key is the rare moment to sweep out stale ones.
                    let stale = throttles::table.filter(throttles::last_at.lt(now - KEEP_SECS));
                    diesel::delete(stale).execute(c)?;
                }
            }
            Ok(answer)
        })?)
    }
}
