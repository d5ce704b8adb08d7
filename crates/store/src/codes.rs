//! Authorization codes, revoked grants and the claims requests of grants (`oauth::CodeStore`,
//! `oauth::GrantStore`).
//!
//! A code's life: `insert_code` → unused → (first `redeem_code`) → used, kept until it expires
//! so that a replay is recognised (`AlreadyUsed`) and its grant can be revoked.

use diesel::prelude::*;
use oauth::{ClientId, CodeStore, GrantId, GrantStore, NewCode, Redeem};
use tokens::TokenHash;

use crate::error::{StoreError, list_from_json, list_to_json};
use crate::schema::{codes, grant_claims, revoked_grants};
use crate::{DbConnection, Store};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = codes)]
struct CodeRow {
    code_hash: String,
    grant_id: String,
    client_id: String,
    redirect_uri: String,
    subject: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: String,
    auth_time: i64,
    amr: String,
    session_id: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    idp: Option<String>,
    claims: Option<String>,
}

impl From<&NewCode> for CodeRow {
    fn from(c: &NewCode) -> Self {
        CodeRow {
            code_hash: c.code_hash.as_str().to_owned(),
            grant_id: c.grant_id.as_str().to_owned(),
            client_id: c.client_id.as_str().to_owned(),
            redirect_uri: c.redirect_uri.clone(),
            subject: c.subject.clone(),
            scope: c.scope.clone(),
            nonce: c.nonce.clone(),
            code_challenge: c.code_challenge.clone(),
            auth_time: c.auth_time,
            amr: list_to_json(&c.amr),
            session_id: c.session_id.clone(),
            created_at: c.created_at,
            expires_at: c.expires_at,
            used_at: None,
            idp: c.idp.clone(),
            claims: c.claims.clone(),
        }
    }
}

impl TryFrom<CodeRow> for NewCode {
    type Error = StoreError;

    fn try_from(r: CodeRow) -> Result<Self, StoreError> {
        Ok(NewCode {
            code_hash: TokenHash::from_stored(r.code_hash),
            grant_id: GrantId::from_stored(r.grant_id),
            client_id: ClientId::from_stored(r.client_id),
            redirect_uri: r.redirect_uri,
            subject: r.subject,
            scope: r.scope,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            auth_time: r.auth_time,
            amr: list_from_json("codes.amr", &r.amr)?,
            session_id: r.session_id,
            idp: r.idp,
            claims: r.claims,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

impl CodeStore for Store {
    /// A code with a claims request stores it for its grant too, in the same transaction.
    fn insert_code(&self, code: &NewCode) -> Result<(), oauth::StoreError> {
        let row = CodeRow::from(code);
        self.transaction(|c| {
            diesel::insert_into(codes::table).values(&row).execute(c)?;
            if let Some(claims) = &row.claims {
                diesel::insert_into(grant_claims::table)
                    .values((
                        grant_claims::grant_id.eq(&row.grant_id),
                        grant_claims::claims.eq(claims),
                        grant_claims::created_at.eq(row.created_at),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn redeem_code(&self, code_hash: &TokenHash, now: i64) -> Result<Redeem, oauth::StoreError> {
        let hash = code_hash.as_str();
        Ok(self.transaction(|c| {
            // The conditional update decides: of parallel redemptions, exactly one sees one
            // affected row (PostgreSQL re-checks `used_at IS NULL` after the winner commits;
            // SQLite runs writers one at a time).
            let won = diesel::update(codes::table.find(hash).filter(codes::used_at.is_null()))
                .set(codes::used_at.eq(now))
                .execute(c)?;
            let row = codes::table.find(hash).select(CodeRow::as_select()).first(c).optional()?;
            Ok(match row {
                Some(row) if won == 1 => Redeem::Fresh(row.try_into()?),
                Some(row) => Redeem::AlreadyUsed { grant_id: GrantId::from_stored(row.grant_id) },
                None => Redeem::Unknown,
            })
        })?)
    }
}

impl GrantStore for Store {
    fn revoke_grant(&self, grant_id: &GrantId, now: i64) -> Result<(), oauth::StoreError> {
        let revoked = self.transaction(|c| {
            Ok(diesel::insert_into(revoked_grants::table)
                .values((revoked_grants::grant_id.eq(grant_id.as_str()), revoked_grants::revoked_at.eq(now)))
                .execute(c)?)
        });
        match revoked {
            // Revoked before: the first time stands.
            Err(e) if e.is_unique_violation(&["revoked_grants_pkey", "revoked_grants.grant_id"]) => Ok(()),
            other => Ok(other.map(drop)?),
        }
    }

    fn is_grant_revoked(&self, grant_id: &GrantId) -> Result<bool, oauth::StoreError> {
        Ok(self.read(|c| grant_revoked_in(c, grant_id))?)
    }

    fn grant_claims(&self, grant_id: &GrantId) -> Result<Option<String>, oauth::StoreError> {
        Ok(self.read(|c| grant_claims_in(c, grant_id))?)
    }

    fn record_issuance(&self, issued: &oauth::Issuance) -> Result<(), oauth::StoreError> {
        Ok(self.transaction(|c| crate::audit::insert_issuance(c, issued))?)
    }
}

pub(crate) fn grant_revoked_in(c: &mut DbConnection, grant_id: &GrantId) -> Result<bool, StoreError> {
    let found = revoked_grants::table
        .find(grant_id.as_str())
        .select(revoked_grants::grant_id)
        .first::<String>(c)
        .optional()?;
    Ok(found.is_some())
}

pub(crate) fn grant_claims_in(
    c: &mut DbConnection,
    grant_id: &GrantId,
) -> Result<Option<String>, StoreError> {
    Ok(grant_claims::table
        .find(grant_id.as_str())
        .select(grant_claims::claims)
        .first::<String>(c)
        .optional()?)
}
