//! Consents and pushed authorization requests (`oauth::ConsentStore`,
//! `oauth::PushedRequestStore`), and the account facts claims are made of
//! (`oauth::SubjectStore::subject_profile`, beside `subject_standing` in `refresh_tokens.rs`).
//!
//! A pushed request's life: `insert_pushed_request` → unused → (first `take_pushed_request`
//! before it expires) → used; a used or expired one is never handed out again, and is deleted
//! by the first push after it expired.

use diesel::prelude::*;
use oauth::{ClientId, ConsentStore, Profile, PushedRequest, PushedRequestStore};
use tokens::TokenHash;

use crate::Store;
use crate::error::{StoreError, list_from_json, list_to_json};
use crate::schema::{accounts, consents, pushed_requests};

impl ConsentStore for Store {
    fn find_consent(
        &self,
        account: &str,
        client: &ClientId,
    ) -> Result<Option<Vec<String>>, oauth::StoreError> {
        let scopes = self.read(|c| {
            Ok(consents::table
                .find((account, client.as_str()))
                .select(consents::scopes)
                .first::<String>(c)
                .optional()?)
        })?;
        Ok(scopes.map(|s| list_from_json("consents.scopes", &s)).transpose()?)
    }

    fn save_consent(
        &self,
        account: &str,
        client: &ClientId,
        scopes: &[String],
        now: i64,
    ) -> Result<(), oauth::StoreError> {
        let scopes = list_to_json(scopes);
        let update = |c: &mut crate::conn::DbConnection| -> Result<usize, StoreError> {
            Ok(diesel::update(consents::table.find((account, client.as_str())))
                .set((consents::scopes.eq(&scopes), consents::granted_at.eq(now)))
                .execute(c)?)
        };
        // No ON CONFLICT on the multi backend: update, else insert; a parallel insert that won
        // makes ours a unique violation, and the update then applies.
        let saved = self.transaction(|c| {
            if update(c)? == 0 {
                diesel::insert_into(consents::table)
                    .values((
                        consents::account_id.eq(account),
                        consents::client_id.eq(client.as_str()),
                        consents::scopes.eq(&scopes),
                        consents::granted_at.eq(now),
                    ))
                    .execute(c)?;
            }
            Ok(())
        });
        match saved {
            Err(e) if e.is_unique_violation(&["consents_pkey", "consents.account_id"]) => {
                self.transaction(|c| update(c).map(drop))?;
                Ok(())
            }
            other => Ok(other?),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = pushed_requests)]
struct PushedRow {
    uri_hash: String,
    client_id: String,
    params: String,
    created_at: i64,
    expires_at: i64,
}

impl PushedRequestStore for Store {
    fn insert_pushed_request(&self, r: &PushedRequest) -> Result<(), oauth::StoreError> {
        let row = PushedRow {
            uri_hash: r.uri_hash.as_str().to_owned(),
            client_id: r.client_id.as_str().to_owned(),
            params: r.params.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
        };
        self.transaction(|c| {
            // Expired requests are of no use to anyone: each push clears them, so the table holds
            // only what may still be taken.
            diesel::delete(pushed_requests::table.filter(pushed_requests::expires_at.le(row.created_at)))
                .execute(c)?;
            diesel::insert_into(pushed_requests::table).values(&row).execute(c)?;
            Ok(())
        })?;
        Ok(())
    }

    fn take_pushed_request(
        &self,
        uri_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<PushedRequest>, oauth::StoreError> {
        let hash = uri_hash.as_str();
        let row = self.transaction(|c| {
            // The conditional update decides: of parallel uses, one sees one affected row.
            let won = diesel::update(
                pushed_requests::table
                    .find(hash)
                    .filter(pushed_requests::used_at.is_null())
                    .filter(pushed_requests::expires_at.gt(now)),
            )
            .set(pushed_requests::used_at.eq(now))
            .execute(c)?;
            if won != 1 {
                return Ok(None);
            }
            Ok(pushed_requests::table.find(hash).select(PushedRow::as_select()).first(c).optional()?)
        })?;
        Ok(row.map(|r| PushedRequest {
            uri_hash: TokenHash::from_stored(r.uri_hash),
            client_id: ClientId::from_stored(r.client_id),
            params: r.params,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }
}

/// The claims source for `subject`, if the account exists.
pub(crate) fn subject_profile(store: &Store, subject: &str) -> Result<Option<Profile>, StoreError> {
    type Row = (String, String, bool, Option<String>, Option<String>, Option<String>, Option<String>, i64);
    let row: Option<Row> = store.read(|c| {
        Ok(accounts::table
            .find(subject)
            .select((
                accounts::id,
                accounts::email,
                accounts::email_verified,
                accounts::name,
                accounts::given_name,
                accounts::family_name,
                accounts::phone_number,
                accounts::updated_at,
            ))
            .first(c)
            .optional()?)
    })?;
    Ok(row.map(|(sub, email, email_verified, name, given_name, family_name, phone_number, updated_at)| {
        Profile { sub, name, given_name, family_name, email, email_verified, phone_number, updated_at }
    }))
}
