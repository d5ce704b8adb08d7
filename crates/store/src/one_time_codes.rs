//! One-time codes: emailed links and typed codes (`identity::OneTimeCodeStore`). The rules of
//! redemption are identity's ([`judge_link`], [`judge_typed_code`]); this module applies them
//! so that a code is used at most once and tries are never lost.

use diesel::prelude::*;
use identity::{
    AccountId, CodeKind, Consume, NewOneTimeCode, OneTimeCode, OneTimeCodeStore, Purpose, judge_link,
    judge_typed_code,
};
use tokens::TokenHash;

use crate::Store;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{accounts, one_time_codes};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = one_time_codes)]
struct OneTimeCodeRow {
    code_hash: String,
    account_id: String,
    purpose: String,
    kind: String,
    created_at: i64,
    expires_at: i64,
    tries: i32,
    used_at: Option<i64>,
}

impl From<&NewOneTimeCode> for OneTimeCodeRow {
    fn from(c: &NewOneTimeCode) -> Self {
        OneTimeCodeRow {
            code_hash: c.code_hash.as_str().to_owned(),
            account_id: c.account_id.as_str().to_owned(),
            purpose: c.purpose.as_str().to_owned(),
            kind: c.kind.as_str().to_owned(),
            created_at: c.created_at,
            expires_at: c.expires_at,
            tries: 0,
            used_at: None,
        }
    }
}

impl TryFrom<OneTimeCodeRow> for OneTimeCode {
    type Error = StoreError;

    fn try_from(r: OneTimeCodeRow) -> Result<Self, StoreError> {
        let unknown = |column, value: String| StoreError::UnknownName { column, value };
        Ok(OneTimeCode {
            purpose: Purpose::parse(&r.purpose)
                .ok_or_else(|| unknown("one_time_codes.purpose", r.purpose))?,
            kind: CodeKind::parse(&r.kind).ok_or_else(|| unknown("one_time_codes.kind", r.kind))?,
            account_id: AccountId::from_stored(r.account_id),
            code_hash: TokenHash::from_stored(r.code_hash),
            created_at: r.created_at,
            expires_at: r.expires_at,
            tries: u32::try_from(r.tries).unwrap_or(u32::MAX),
            used_at: r.used_at,
        })
    }
}

/// `replace_code`'s statements, for a transaction that may do more ([`Store::issue_code_with_mail`]).
///
/// Replacements of one account's code must not interleave: two would each delete the old row and
/// insert their own, and the unique (account, purpose) constraint would fail one. SQLite runs
/// them one at a time (the delete is the first write and takes the database's write lock);
/// PostgreSQL is made to, by locking the account row first (`FOR NO KEY UPDATE`, which foreign
/// key checks from other tables do not wait for).
pub(crate) fn replace_code_in(c: &mut DbConnection, code: &NewOneTimeCode) -> Result<(), StoreError> {
    let account = code.account_id.as_str();
    if let DbConnection::Postgresql(pg) = c {
        accounts::table
            .find(account)
            .select(accounts::id)
            .for_no_key_update()
            .first::<String>(pg)
            .optional()?;
    }
    diesel::delete(
        one_time_codes::table
            .filter(one_time_codes::account_id.eq(account))
            .filter(one_time_codes::purpose.eq(code.purpose.as_str())),
    )
    .execute(c)?;
    diesel::insert_into(one_time_codes::table).values(OneTimeCodeRow::from(code)).execute(c)?;
    Ok(())
}

fn find_by_hash(c: &mut DbConnection, hash: &str) -> Result<Option<OneTimeCode>, StoreError> {
    let row = one_time_codes::table.find(hash).select(OneTimeCodeRow::as_select()).first(c).optional()?;
    row.map(OneTimeCode::try_from).transpose()
}

impl OneTimeCodeStore for Store {
    fn replace_code(&self, code: &NewOneTimeCode) -> Result<(), identity::StoreError> {
        Ok(self.transaction(|c| replace_code_in(c, code))?)
    }

    fn consume_link(
        &self,
        hash: &TokenHash,
        purpose: Purpose,
        now: i64,
    ) -> Result<Consume, identity::StoreError> {
        let hash = hash.as_str();
        Ok(self.transaction(|c| {
            // The single-use step: of parallel presentations exactly one sees the row (PostgreSQL
            // re-checks `used_at IS NULL` after the winner commits; SQLite runs writers one at a
            // time).
            let won = diesel::update(
                one_time_codes::table
                    .find(hash)
                    .filter(one_time_codes::purpose.eq(purpose.as_str()))
                    .filter(one_time_codes::kind.eq(CodeKind::Link.as_str()))
                    .filter(one_time_codes::used_at.is_null())
                    .filter(one_time_codes::expires_at.gt(now)),
            )
            .set(one_time_codes::used_at.eq(now))
            .returning(one_time_codes::account_id)
            .get_result::<String>(c)
            .optional()?;
            if let Some(account_id) = won {
                return Ok(Consume::Accepted { account_id: AccountId::from_stored(account_id) });
            }
            Ok(match judge_link(find_by_hash(c, hash)?.as_ref(), purpose, now) {
                // Only a row committed between the update and this read can look redeemable
                // here; it was not there when the link was presented.
                Consume::Accepted { .. } => Consume::Unknown,
                refused => refused,
            })
        })?)
    }

    fn peek_link(
        &self,
        hash: &TokenHash,
        purpose: Purpose,
        now: i64,
    ) -> Result<Consume, identity::StoreError> {
        let code = self.read(|c| find_by_hash(c, hash.as_str()))?;
        Ok(judge_link(code.as_ref(), purpose, now))
    }

    /// Read, judge and count under a lock: the account's code row `FOR UPDATE` on PostgreSQL,
    /// an `IMMEDIATE` transaction on SQLite. Parallel attempts therefore see each other's
    /// counted tries, so no more than `max_tries` are ever evaluated, and a right code wins once.
    fn attempt_typed_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        presented: &TokenHash,
        now: i64,
        max_tries: u32,
    ) -> Result<Consume, identity::StoreError> {
        Ok(self.write_transaction(|c| {
            let query = one_time_codes::table
                .filter(one_time_codes::account_id.eq(account.as_str()))
                .filter(one_time_codes::purpose.eq(purpose.as_str()));
            let row = match c {
                DbConnection::Postgresql(pg) => {
                    query.select(OneTimeCodeRow::as_select()).for_update().first(pg).optional()?
                }
                DbConnection::Sqlite(lite) => {
                    query.select(OneTimeCodeRow::as_select()).first(lite).optional()?
                }
            };
            let code = row.map(OneTimeCode::try_from).transpose()?;
            let attempt = judge_typed_code(code.as_ref(), purpose, presented, now, max_tries);
            if let Some(code) = code.filter(|_| attempt.counts_try) {
                let accepted = matches!(attempt.outcome, Consume::Accepted { .. });
                diesel::update(one_time_codes::table.find(code.code_hash.as_str()))
                    .set((
                        one_time_codes::tries.eq(one_time_codes::tries + 1),
                        one_time_codes::used_at.eq(accepted.then_some(now)),
                    ))
                    .execute(c)?;
            }
            Ok(attempt.outcome)
        })?)
    }
}
