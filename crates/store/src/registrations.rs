//! Sign-up registrations and imported accounts (`identity::RegistrationStore`), and storing a
//! registration together with the mail that carries its link
//! ([`Store::create_registration_with_mail`]).

use std::collections::BTreeMap;

use diesel::prelude::*;
use identity::{
    Account, AccountId, CompleteRegistration, Imported, ImportedAccount, NewAccount, NewRegistration,
    RegistrationStore,
};
use mail::OutgoingMessage;
use tokens::TokenHash;

use crate::Store;
use crate::accounts::{AccountRow, add_to_history};
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::outbox::enqueue_in;
use crate::schema::{account_attributes, accounts, registrations};

/// The unique index on `accounts.email`, as each backend names it in a violation.
const EMAIL_KEY: [&str; 2] = ["accounts_email_key", "accounts.email"];

#[derive(Insertable)]
#[diesel(table_name = registrations)]
struct RegistrationRow {
    code_hash: String,
    email: String,
    given_name: String,
    family_name: String,
    password_hash: String,
    created_at: i64,
    expires_at: i64,
}

impl From<&NewRegistration> for RegistrationRow {
    fn from(r: &NewRegistration) -> Self {
        RegistrationRow {
            code_hash: r.code_hash.as_str().to_owned(),
            email: r.email.as_str().to_owned(),
            given_name: r.given_name.clone(),
            family_name: r.family_name.clone(),
            password_hash: r.password_hash.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

/// What a used link leaves to apply.
#[derive(Queryable)]
struct Won {
    email: String,
    given_name: String,
    family_name: String,
    password_hash: String,
}

impl Store {
    /// Stores the pending registration `reg` and enqueues `message`, which carries its link, in
    /// one transaction: either both are stored or neither. Registrations expired at `now` are
    /// deleted in the same transaction. Returns the outbox id.
    pub fn create_registration_with_mail(
        &self,
        reg: &NewRegistration,
        message: &OutgoingMessage,
        now: i64,
    ) -> Result<String, StoreError> {
        let row = RegistrationRow::from(reg);
        self.transaction(|c| {
            let id = enqueue_in(c, message, now)?;
            diesel::delete(registrations::table.filter(registrations::expires_at.le(now))).execute(c)?;
            diesel::insert_into(registrations::table).values(&row).execute(c)?;
            Ok(id)
        })
    }
}

/// Runs `f` in a savepoint and reports whether the database refused it as a second account
/// for an email (`Ok(None)`); the savepoint's rollback keeps the outer PostgreSQL transaction
/// usable after the unique violation.
fn unless_email_taken<T>(
    c: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    match c.transaction(f) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_unique_violation(&EMAIL_KEY) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The id of the account with `email`, if any.
fn find_by_email(c: &mut DbConnection, email: &str) -> Result<Option<String>, StoreError> {
    Ok(accounts::table.filter(accounts::email.eq(email)).select(accounts::id).first(c).optional()?)
}

impl RegistrationStore for Store {
    fn peek_registration(&self, hash: &TokenHash, now: i64) -> Result<bool, identity::StoreError> {
        let live = self.read(|c| {
            Ok(registrations::table
                .find(hash.as_str())
                .filter(registrations::expires_at.gt(now))
                .select(registrations::code_hash)
                .first::<String>(c)
                .optional()?)
        })?;
        Ok(live.is_some())
    }

    /// The link's delete comes first: it is the single-use step (PostgreSQL re-checks the row
    /// after a parallel winner commits and deletes nothing) and, on SQLite, the first write,
    /// which serialises completions. Then a new account is inserted in a savepoint, whose
    /// unique violation (another link for the same email won meanwhile) means `AlreadyActive`;
    /// or an imported account is claimed by an update conditional on it still being unclaimed.
    fn complete_registration(
        &self,
        hash: &TokenHash,
        new_id: &AccountId,
        now: i64,
    ) -> Result<Option<CompleteRegistration>, identity::StoreError> {
        Ok(self.transaction(|c| {
            let won = diesel::delete(
                registrations::table.find(hash.as_str()).filter(registrations::expires_at.gt(now)),
            )
            // Columns, not `as_returning()`: `SelectBy` has no SQL on the multi backend.
            .returning((
                registrations::email,
                registrations::given_name,
                registrations::family_name,
                registrations::password_hash,
            ))
            .get_result::<Won>(c)
            .optional()?;
            let Some(reg) = won else {
                return Ok(None);
            };
            let name = format!("{} {}", reg.given_name, reg.family_name);
            let Some(existing_id) = find_by_email(c, &reg.email)? else {
                let row = AccountRow::from(&NewAccount {
                    id: new_id.clone(),
                    email: identity::Email::from_stored(reg.email),
                    email_verified: true,
                    name: Some(name),
                    given_name: Some(reg.given_name),
                    family_name: Some(reg.family_name),
                    phone_number: None,
                    password_hash: Some(reg.password_hash.clone()),
                    created_at: now,
                });
                let inserted = unless_email_taken(c, |c| {
                    diesel::insert_into(accounts::table)
                        .values((&row, accounts::imported.eq(false)))
                        .execute(c)?;
                    add_to_history(c, new_id.as_str(), &reg.password_hash, now)
                })?;
                return Ok(Some(match inserted {
                    Some(()) => CompleteRegistration::Created(Account::from(row)),
                    None => CompleteRegistration::AlreadyActive,
                }));
            };
            let claimed = diesel::update(
                accounts::table
                    .find(&existing_id)
                    .filter(accounts::imported.eq(true))
                    .filter(accounts::password_hash.is_null())
                    .filter(accounts::email_verified.eq(false)),
            )
            .set((
                accounts::password_hash.eq(&reg.password_hash),
                accounts::given_name.eq(&reg.given_name),
                accounts::family_name.eq(&reg.family_name),
                accounts::name.eq(&name),
                accounts::email_verified.eq(true),
                accounts::imported.eq(false),
                accounts::updated_at.eq(now),
            ))
            .execute(c)?;
            if claimed == 0 {
                return Ok(Some(CompleteRegistration::AlreadyActive));
            }
            add_to_history(c, &existing_id, &reg.password_hash, now)?;
            let account: AccountRow =
                accounts::table.find(&existing_id).select(AccountRow::as_select()).first(c)?;
            Ok(Some(CompleteRegistration::Claimed(account.into())))
        })?)
    }

    /// `IMMEDIATE` on SQLite, as it reads before it writes. Each account goes in a savepoint:
    /// an account created for the same email meanwhile (a sign-up on PostgreSQL) makes the row
    /// `Exists` instead of failing the import.
    fn import_accounts(&self, accounts: &[ImportedAccount]) -> Result<Vec<Imported>, identity::StoreError> {
        Ok(self.write_transaction(|c| {
            let mut outcomes = Vec::with_capacity(accounts.len());
            for a in accounts {
                if find_by_email(c, a.email.as_str())?.is_some() {
                    outcomes.push(Imported::Exists);
                    continue;
                }
                let row = AccountRow::from(&NewAccount {
                    id: a.id.clone(),
                    email: a.email.clone(),
                    email_verified: false,
                    name: a.name.clone(),
                    given_name: a.given_name.clone(),
                    family_name: a.family_name.clone(),
                    phone_number: a.phone_number.clone(),
                    password_hash: None,
                    created_at: a.created_at,
                });
                let inserted = unless_email_taken(c, |c| {
                    diesel::insert_into(accounts::table)
                        .values((&row, accounts::imported.eq(true)))
                        .execute(c)?;
                    let attributes: Vec<_> = a
                        .attributes
                        .iter()
                        .map(|(name, value)| {
                            (
                                account_attributes::account_id.eq(a.id.as_str()),
                                account_attributes::name.eq(name),
                                account_attributes::value.eq(value),
                            )
                        })
                        .collect();
                    // One statement per attribute: the multi backend has no batch insert.
                    for attribute in attributes {
                        diesel::insert_into(account_attributes::table).values(attribute).execute(c)?;
                    }
                    Ok(())
                })?;
                outcomes.push(if inserted.is_some() { Imported::Created } else { Imported::Exists });
            }
            Ok(outcomes)
        })?)
    }

    fn account_attributes(
        &self,
        account: &AccountId,
    ) -> Result<BTreeMap<String, String>, identity::StoreError> {
        let rows = self.read(|c| {
            Ok(account_attributes::table
                .filter(account_attributes::account_id.eq(account.as_str()))
                .select((account_attributes::name, account_attributes::value))
                .load::<(String, String)>(c)?)
        })?;
        Ok(rows.into_iter().collect())
    }
}
