//! Connected portals (`oauth::PortalStore`): an account's consents and live refresh token
//! families, read together, and the removal of one portal's consent and grants.
//!
//! The grants of an account with a client are the grant ids of its codes (kept until every access
//! token they issued has expired, `purge.rs`) and of its refresh tokens; revoking them is a
//! `revoked_grants` row each, which refresh, introspection and userinfo check.

use diesel::prelude::*;
use oauth::{ClientId, GrantId, PortalFacts, PortalRemoval, PortalStore, StoredConsent, StoredFamily};

use crate::codes::grant_revoked_in;
use crate::error::{StoreError, list_from_json};
use crate::refresh_tokens::standing_in;
use crate::schema::{clients, codes, consents, refresh_tokens, revoked_grants};
use crate::{DbConnection, Store};

/// How often a removal that lost a race for a grant's revocation row is run again.
const MAX_ATTEMPTS: usize = 8;

impl PortalStore for Store {
    fn portal_facts(&self, account: &str, now: i64) -> Result<PortalFacts, oauth::StoreError> {
        Ok(self.read(|c| {
            let consents = consents::table
                .inner_join(clients::table)
                .filter(consents::account_id.eq(account))
                .select((consents::client_id, clients::name, consents::scopes, consents::granted_at))
                .load::<(String, String, String, i64)>(c)?
                .into_iter()
                .map(|(id, name, scopes, granted_at)| {
                    Ok(StoredConsent {
                        client_id: ClientId::from_stored(id),
                        client_name: name,
                        scopes: list_from_json("consents.scopes", &scopes)?,
                        granted_at,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let rows = refresh_tokens::table
                .inner_join(clients::table)
                .filter(refresh_tokens::subject.eq(account))
                .filter(refresh_tokens::used_at.is_null())
                .select((
                    refresh_tokens::client_id,
                    clients::name,
                    refresh_tokens::grant_id,
                    refresh_tokens::scope,
                    refresh_tokens::family_issued_at,
                    refresh_tokens::expires_at,
                ))
                .load::<(String, String, String, String, i64, i64)>(c)?;
            let mut families = Vec::with_capacity(rows.len());
            for (id, name, grant, scope, family_issued_at, expires_at) in rows {
                families.push(StoredFamily {
                    client_id: ClientId::from_stored(id),
                    client_name: name,
                    scope,
                    family_issued_at,
                    expires_at,
                    grant_revoked: grant_revoked_in(c, &GrantId::from_stored(grant))?,
                });
            }
            Ok(PortalFacts { consents, families, standing: standing_in(c, account, now)? })
        })?)
    }

    fn remove_portal(
        &self,
        account: &str,
        client: &ClientId,
        now: i64,
    ) -> Result<PortalRemoval, oauth::StoreError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.transaction(|c| remove_in(c, account, client.as_str(), now)) {
                // A parallel removal (or revocation) of one of the grants committed first (on
                // PostgreSQL, where transactions run side by side): once more, and this time its
                // row is seen and skipped. Each retry follows another transaction's commit.
                Err(e)
                    if attempts < MAX_ATTEMPTS
                        && e.is_unique_violation(&["revoked_grants_pkey", "revoked_grants.grant_id"]) => {}
                other => return Ok(other?),
            }
        }
    }
}

fn remove_in(
    c: &mut DbConnection,
    account: &str,
    client: &str,
    now: i64,
) -> Result<PortalRemoval, StoreError> {
    // Writes first (see `Store::transaction`).
    let consent_deleted = diesel::delete(consents::table.find((account, client))).execute(c)? > 0;
    let mut grants: Vec<String> = codes::table
        .filter(codes::subject.eq(account))
        .filter(codes::client_id.eq(client))
        .select(codes::grant_id)
        .load(c)?;
    grants.extend(
        refresh_tokens::table
            .filter(refresh_tokens::subject.eq(account))
            .filter(refresh_tokens::client_id.eq(client))
            .select(refresh_tokens::grant_id)
            .load::<String>(c)?,
    );
    grants.sort();
    grants.dedup();
    let mut grants_revoked = 0;
    for grant in grants {
        if grant_revoked_in(c, &GrantId::from_stored(grant.clone()))? {
            continue;
        }
        diesel::insert_into(revoked_grants::table)
            .values((revoked_grants::grant_id.eq(&grant), revoked_grants::revoked_at.eq(now)))
            .execute(c)?;
        grants_revoked += 1;
    }
    Ok(PortalRemoval { consent_deleted, grants_revoked })
}
