//! Upstream sign-in (`identity::FederationStore`): links from (provider, subject) to accounts,
//! the method each account is bound to, and pending upstream flows keyed by the hash of their
//! `state`. Every step that must happen once is a conditional statement with one winner.

use diesel::prelude::*;
use identity::{
    Account, AccountId, BoundAccount, CreateAccount, Email, FederationStore, NewAccount, NewAuditEvent,
    NewUpstreamFlow, TakeFlow, UpstreamIdentity,
};
use tokens::TokenHash;

use crate::Store;
use crate::accounts::AccountRow;
use crate::audit::insert_event;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{accounts, federated_identities, federation_flows};

/// The unique indexes a federated insert can hit, as each backend names them.
const EMAIL_KEY: [&str; 2] = ["accounts_email_key", "accounts.email"];
const LINK_KEY: [&str; 2] = ["federated_identities_pkey", "federated_identities.provider"];

#[derive(Queryable, Insertable)]
#[diesel(table_name = federation_flows)]
struct FlowRow {
    state_hash: String,
    provider: String,
    nonce: String,
    pkce_verifier: String,
    continue_to: String,
    keep_signed_in: bool,
    binding_hash: String,
    created_at: i64,
    expires_at: i64,
}

impl From<FlowRow> for NewUpstreamFlow {
    fn from(r: FlowRow) -> Self {
        NewUpstreamFlow {
            state_hash: TokenHash::from_stored(r.state_hash),
            provider: r.provider,
            nonce: r.nonce,
            pkce_verifier: r.pkce_verifier,
            continue_to: r.continue_to,
            keep_signed_in: r.keep_signed_in,
            binding_hash: TokenHash::from_stored(r.binding_hash),
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

fn insert_link(
    c: &mut DbConnection,
    provider: &str,
    subject: &str,
    account: &str,
    now: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(federated_identities::table)
        .values((
            federated_identities::provider.eq(provider),
            federated_identities::subject.eq(subject),
            federated_identities::account_id.eq(account),
            federated_identities::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

impl FederationStore for Store {
    fn create_upstream_flow(&self, flow: &NewUpstreamFlow) -> Result<(), identity::StoreError> {
        let row = FlowRow {
            state_hash: flow.state_hash.as_str().to_owned(),
            provider: flow.provider.clone(),
            nonce: flow.nonce.clone(),
            pkce_verifier: flow.pkce_verifier.clone(),
            continue_to: flow.continue_to.clone(),
            keep_signed_in: flow.keep_signed_in,
            binding_hash: flow.binding_hash.as_str().to_owned(),
            created_at: flow.created_at,
            expires_at: flow.expires_at,
        };
        self.transaction(|c| {
            diesel::insert_into(federation_flows::table).values(&row).execute(c)?;
            diesel::delete(federation_flows::table.filter(federation_flows::expires_at.le(flow.created_at)))
                .execute(c)?;
            Ok(())
        })?;
        Ok(())
    }

    /// The delete is the single-use step: of parallel callbacks with one `state`, one gets the row.
    fn take_upstream_flow(&self, state_hash: &TokenHash, now: i64) -> Result<TakeFlow, identity::StoreError> {
        let row = self.transaction(|c| {
            Ok(diesel::delete(federation_flows::table.find(state_hash.as_str()))
                // Columns, not `as_returning()`: `SelectBy` has no SQL on the multi backend.
                .returning((
                    federation_flows::state_hash,
                    federation_flows::provider,
                    federation_flows::nonce,
                    federation_flows::pkce_verifier,
                    federation_flows::continue_to,
                    federation_flows::keep_signed_in,
                    federation_flows::binding_hash,
                    federation_flows::created_at,
                    federation_flows::expires_at,
                ))
                .get_result::<FlowRow>(c)
                .optional()?)
        })?;
        Ok(match row {
            None => TakeFlow::Unknown,
            Some(r) if r.expires_at <= now => TakeFlow::Expired,
            Some(r) => TakeFlow::Taken(r.into()),
        })
    }

    fn find_linked_account(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<AccountId>, identity::StoreError> {
        let id = self.read(|c| {
            Ok(federated_identities::table
                .find((provider, subject))
                .select(federated_identities::account_id)
                .first::<String>(c)
                .optional()?)
        })?;
        Ok(id.map(AccountId::from_stored))
    }

    fn find_bound_account(&self, email: &Email) -> Result<Option<BoundAccount>, identity::StoreError> {
        let row = self.read(|c| {
            Ok(accounts::table
                .filter(accounts::email.eq(email.as_str()))
                .select((AccountRow::as_select(), accounts::first_method, accounts::imported))
                .first::<(AccountRow, String, bool)>(c)
                .optional()?)
        })?;
        Ok(row.map(|(row, first_method, imported)| {
            let account = Account::from(row);
            let unclaimed_import = imported && account.password_hash.is_none() && !account.email_verified;
            BoundAccount { account, first_method, unclaimed_import }
        }))
    }

    fn first_method(&self, account: &AccountId) -> Result<Option<String>, identity::StoreError> {
        Ok(self.read(|c| {
            Ok(accounts::table.find(account.as_str()).select(accounts::first_method).first(c).optional()?)
        })?)
    }

    /// The account insert comes first (SQLite: the first write serialises); its unique
    /// violation rolls back the transaction and answers `EmailTaken`.
    fn create_upstream_account(
        &self,
        account: &NewAccount,
        provider: &str,
        subject: &str,
    ) -> Result<CreateAccount, identity::StoreError> {
        let row = AccountRow::from(account);
        let created = self.transaction(|c| {
            diesel::insert_into(accounts::table)
                .values((&row, accounts::imported.eq(false), accounts::first_method.eq(provider)))
                .execute(c)?;
            insert_link(c, provider, subject, account.id.as_str(), account.created_at)
        });
        match created {
            Ok(()) => Ok(CreateAccount::Created(row.into())),
            Err(e) if e.is_unique_violation(&EMAIL_KEY) || e.is_unique_violation(&LINK_KEY) => {
                Ok(CreateAccount::EmailTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The conditional update (still imported, no password, unverified) is the one winner.
    fn claim_for_upstream(
        &self,
        account: &AccountId,
        identity: &UpstreamIdentity,
        now: i64,
    ) -> Result<bool, identity::StoreError> {
        let id = account.as_str();
        let claimed = self.transaction(|c| {
            let claimed = diesel::update(
                accounts::table
                    .find(id)
                    .filter(accounts::imported.eq(true))
                    .filter(accounts::password_hash.is_null())
                    .filter(accounts::email_verified.eq(false)),
            )
            .set((
                accounts::email_verified.eq(true),
                accounts::imported.eq(false),
                accounts::first_method.eq(&identity.provider),
                accounts::updated_at.eq(now),
            ))
            .execute(c)?;
            if claimed == 0 {
                return Ok(false);
            }
            // Names the import left empty come from the provider; imported ones stay.
            let mine = || accounts::table.find(id);
            if let Some(v) = &identity.name {
                diesel::update(mine().filter(accounts::name.is_null()))
                    .set(accounts::name.eq(v))
                    .execute(c)?;
            }
            if let Some(v) = &identity.given_name {
                diesel::update(mine().filter(accounts::given_name.is_null()))
                    .set(accounts::given_name.eq(v))
                    .execute(c)?;
            }
            if let Some(v) = &identity.family_name {
                diesel::update(mine().filter(accounts::family_name.is_null()))
                    .set(accounts::family_name.eq(v))
                    .execute(c)?;
            }
            insert_link(c, &identity.provider, &identity.subject, id, now)?;
            Ok(true)
        });
        match claimed {
            Ok(done) => Ok(done),
            Err(e) if e.is_unique_violation(&LINK_KEY) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn link_upstream(
        &self,
        account: &AccountId,
        provider: &str,
        subject: &str,
        event: &NewAuditEvent,
        now: i64,
    ) -> Result<bool, identity::StoreError> {
        let linked = self.transaction(|c| {
            insert_link(c, provider, subject, account.as_str(), now)?;
            insert_event(c, event)
        });
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.is_unique_violation(&LINK_KEY) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
