//! Accounts, their password history and browser sessions (`identity::AccountStore`,
//! `identity::PasswordHistoryStore`, `identity::SessionStore`, `identity::RevocationStore`).

use diesel::prelude::*;
use identity::{
    Account, AccountId, AccountStore, CreateAccount, Email, IdleCheck, IdleTimeout, NewAccount, NewSession,
    PasswordHistoryStore, RevocationStore, Session, SessionStore,
};
use tokens::TokenHash;

use crate::Store;
use crate::conn::DbConnection;
use crate::error::{StoreError, list_from_json, list_to_json};
use crate::schema::{accounts, password_history, sessions};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    id: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    phone_number: Option<String>,
    password_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: AccountId::from_stored(r.id),
            email: Email::from_stored(r.email),
            email_verified: r.email_verified,
            name: r.name,
            given_name: r.given_name,
            family_name: r.family_name,
            phone_number: r.phone_number,
            password_hash: r.password_hash,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<&NewAccount> for AccountRow {
    fn from(a: &NewAccount) -> Self {
        AccountRow {
            id: a.id.as_str().to_owned(),
            email: a.email.as_str().to_owned(),
            email_verified: a.email_verified,
            name: a.name.clone(),
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
            phone_number: a.phone_number.clone(),
            password_hash: a.password_hash.clone(),
            created_at: a.created_at,
            updated_at: a.created_at,
        }
    }
}

impl AccountStore for Store {
    fn create_account(&self, account: &NewAccount) -> Result<CreateAccount, identity::StoreError> {
        let row = AccountRow::from(account);
        // No pre-check: under a race both would pass it. The unique index decides, and its
        // violation rolls this transaction back. The first password starts the history.
        let created = self.transaction(|c| {
            diesel::insert_into(accounts::table).values(&row).execute(c)?;
            if let Some(hash) = &row.password_hash {
                add_to_history(c, &row.id, hash, row.created_at)?;
            }
            Ok(())
        });
        match created {
            Ok(_) => Ok(CreateAccount::Created(row.into())),
            Err(e) if e.is_unique_violation(&["accounts_email_key", "accounts.email"]) => {
                Ok(CreateAccount::EmailTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn find_account(&self, id: &AccountId) -> Result<Option<Account>, identity::StoreError> {
        let row = self.read(|c| {
            Ok(accounts::table.find(id.as_str()).select(AccountRow::as_select()).first(c).optional()?)
        })?;
        Ok(row.map(Account::from))
    }

    fn find_account_by_email(&self, email: &Email) -> Result<Option<Account>, identity::StoreError> {
        let row = self.read(|c| {
            Ok(accounts::table
                .filter(accounts::email.eq(email.as_str()))
                .select(AccountRow::as_select())
                .first(c)
                .optional()?)
        })?;
        Ok(row.map(Account::from))
    }

    fn list_accounts(&self, limit: i64, offset: i64) -> Result<Vec<Account>, identity::StoreError> {
        let rows = self.read(|c| {
            Ok(accounts::table
                .order(accounts::email)
                .limit(limit)
                .offset(offset)
                .select(AccountRow::as_select())
                .load(c)?)
        })?;
        Ok(rows.into_iter().map(Account::from).collect())
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    id: String,
    token_hash: String,
    account_id: String,
    auth_time: i64,
    amr: String,
    persistent: bool,
    created_at: i64,
    expires_at: i64,
    idp: Option<String>,
    last_seen_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: r.id,
            account_id: AccountId::from_stored(r.account_id),
            auth_time: r.auth_time,
            amr: list_from_json("sessions.amr", &r.amr)?,
            persistent: r.persistent,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_seen_at: r.last_seen_at,
            idp: r.idp,
        })
    }
}

impl SessionStore for Store {
    fn create_session(&self, session: &NewSession) -> Result<(), identity::StoreError> {
        let row = SessionRow {
            id: session.id.clone(),
            token_hash: session.token_hash.as_str().to_owned(),
            account_id: session.account_id.as_str().to_owned(),
            auth_time: session.auth_time,
            amr: list_to_json(&session.amr),
            persistent: session.persistent,
            created_at: session.created_at,
            expires_at: session.expires_at,
            idp: session.idp.clone(),
            last_seen_at: session.created_at,
        };
        self.transaction(|c| Ok(diesel::insert_into(sessions::table).values(&row).execute(c)?))?;
        Ok(())
    }

    /// A read that writes only when the use is to be recorded (once a step, `identity::idle`):
    /// most requests cost one read and, on SQLite, never wait for the writer gate.
    fn find_session(
        &self,
        token_hash: &TokenHash,
        now: i64,
        idle: &IdleTimeout,
    ) -> Result<Option<Session>, identity::StoreError> {
        let row = self.read(|c| {
            Ok(sessions::table
                .filter(sessions::token_hash.eq(token_hash.as_str()))
                .filter(sessions::expires_at.gt(now))
                .select(SessionRow::as_select())
                .first(c)
                .optional()?)
        })?;
        let Some(mut session) = row.map(Session::try_from).transpose()? else {
            return Ok(None);
        };
        match idle.check(session.last_seen_at, session.persistent, now) {
            IdleCheck::IdleExpired => Ok(None),
            IdleCheck::Live { record: false } => Ok(Some(session)),
            IdleCheck::Live { record: true } => {
                // The step is the condition, so of parallel uses (on any node) one writes and
                // the rest match no row; `last_seen_at` never moves back.
                let step = idle.step(session.persistent);
                let recorded = self.transaction(|c| {
                    Ok(diesel::update(
                        sessions::table
                            .filter(sessions::token_hash.eq(token_hash.as_str()))
                            .filter(sessions::last_seen_at.le(now.saturating_sub(step))),
                    )
                    .set(sessions::last_seen_at.eq(now))
                    .execute(c)?)
                })?;
                if recorded == 1 {
                    session.last_seen_at = now;
                }
                Ok(Some(session))
            }
        }
    }

    fn delete_session(&self, token_hash: &TokenHash) -> Result<(), identity::StoreError> {
        self.transaction(|c| {
            Ok(diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash.as_str())))
                .execute(c)?)
        })?;
        Ok(())
    }
}

pub(crate) fn add_to_history(
    c: &mut DbConnection,
    account: &str,
    hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(password_history::table)
        .values((
            password_history::account_id.eq(account),
            password_history::password_hash.eq(hash),
            password_history::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// Newest first; the autoincremented id orders entries written in the same second.
fn newest_first() -> (
    diesel::helper_types::Desc<password_history::created_at>,
    diesel::helper_types::Desc<password_history::id>,
) {
    (password_history::created_at.desc(), password_history::id.desc())
}

impl PasswordHistoryStore for Store {
    fn password_history(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<String>, identity::StoreError> {
        let id = account.as_str();
        Ok(self.read(|c| {
            let current: Option<Option<String>> =
                accounts::table.find(id).select(accounts::password_hash).first(c).optional()?;
            if current.flatten().is_none() {
                return Ok(Vec::new());
            }
            Ok(password_history::table
                .filter(password_history::account_id.eq(id))
                .order(newest_first())
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select(password_history::password_hash)
                .load(c)?)
        })?)
    }

    fn change_password(
        &self,
        account: &AccountId,
        password_hash: &str,
        keep: usize,
        now: i64,
    ) -> Result<(), identity::StoreError> {
        self.transaction(|c| change_password_in(c, account.as_str(), password_hash, keep, now))?;
        Ok(())
    }
}

/// `change_password`'s statements, for a transaction that may do more. `false`: no such account.
pub(crate) fn change_password_in(
    c: &mut DbConnection,
    id: &str,
    password_hash: &str,
    keep: usize,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = diesel::update(accounts::table.find(id))
        .set((accounts::password_hash.eq(password_hash), accounts::updated_at.eq(now)))
        .execute(c)?;
    if changed == 0 {
        return Ok(false);
    }
    add_to_history(c, id, password_hash, now)?;
    let beyond: Vec<i64> = password_history::table
        .filter(password_history::account_id.eq(id))
        .order(newest_first())
        .select(password_history::id)
        .load::<i64>(c)?
        .into_iter()
        .skip(keep)
        .collect();
    if !beyond.is_empty() {
        diesel::delete(password_history::table.filter(password_history::id.eq_any(beyond))).execute(c)?;
    }
    Ok(true)
}

impl RevocationStore for Store {
    /// `tokens_revoked_at` only moves forward: a revocation stamped earlier (a node whose clock
    /// lags) never un-revokes tokens a later one revoked.
    fn revoke_account_access(
        &self,
        account: &AccountId,
        keep: Option<&str>,
        now: i64,
    ) -> Result<(), identity::StoreError> {
        let id = account.as_str();
        self.transaction(|c| {
            diesel::update(
                accounts::table
                    .find(id)
                    .filter(accounts::tokens_revoked_at.is_null().or(accounts::tokens_revoked_at.lt(now))),
            )
            .set(accounts::tokens_revoked_at.eq(now))
            .execute(c)?;
            let theirs = sessions::table.filter(sessions::account_id.eq(id));
            let ended: Vec<String> = match keep {
                Some(keep) => diesel::delete(theirs.filter(sessions::id.ne(keep)))
                    .returning(sessions::id)
                    .get_results(c)?,
                None => diesel::delete(theirs).returning(sessions::id).get_results(c)?,
            };
            // The relying parties of every ended session hear of it (Back-Channel Logout §2.5).
            crate::logout::queue_logouts_in(c, &ended, now)?;
            Ok(())
        })?;
        Ok(())
    }

    fn tokens_revoked_at(&self, account: &AccountId) -> Result<Option<i64>, identity::StoreError> {
        let at = self.read(|c| {
            Ok(accounts::table
                .find(account.as_str())
                .select(accounts::tokens_revoked_at)
                .first::<Option<i64>>(c)
                .optional()?)
        })?;
        Ok(at.flatten())
    }
}
