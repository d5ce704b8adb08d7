//! Refresh tokens (`oauth::RefreshTokenStore`) and the account facts the token endpoint needs
//! (`oauth::SubjectStore`).
//!
//! A token's life: `insert_refresh_token` (the code exchange) → unused → (first
//! `rotate_refresh_token`) → used, with its successor stored in the same transaction. A used
//! row is kept until it expires so that a reuse is recognised and its family revoked.
//!
//! A refresh costs two transactions: `refresh_state` reads the token and everything that can
//! void it; the rotation writes the successor and the `token.issued` audit row together.

use diesel::prelude::*;
use identity::LockoutState;
use oauth::{
    ClientId, GrantId, Issuance, NewRefreshToken, RefreshState, RefreshToken, RefreshTokenStore, Rotation,
    SubjectStanding,
};
use tokens::TokenHash;

use crate::audit::insert_issuance;
use crate::codes::{grant_claims_in, grant_revoked_in};
use crate::error::{StoreError, list_from_json, list_to_json};
use crate::schema::{accounts, lockouts, refresh_tokens};
use crate::{DbConnection, Store};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    token_hash: String,
    grant_id: String,
    client_id: String,
    subject: String,
    scope: String,
    session_id: String,
    auth_time: i64,
    amr: String,
    family_issued_at: i64,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    idp: Option<String>,
}

impl From<&NewRefreshToken> for RefreshRow {
    fn from(t: &NewRefreshToken) -> Self {
        RefreshRow {
            token_hash: t.token_hash.as_str().to_owned(),
            grant_id: t.grant_id.as_str().to_owned(),
            client_id: t.client_id.as_str().to_owned(),
            subject: t.subject.clone(),
            scope: t.scope.clone(),
            session_id: t.session_id.clone(),
            auth_time: t.auth_time,
            amr: list_to_json(&t.amr),
            family_issued_at: t.family_issued_at,
            created_at: t.created_at,
            expires_at: t.expires_at,
            used_at: None,
            idp: t.idp.clone(),
        }
    }
}

impl TryFrom<RefreshRow> for RefreshToken {
    type Error = StoreError;

    fn try_from(r: RefreshRow) -> Result<Self, StoreError> {
        Ok(RefreshToken {
            token: NewRefreshToken {
                token_hash: TokenHash::from_stored(r.token_hash),
                grant_id: GrantId::from_stored(r.grant_id),
                client_id: ClientId::from_stored(r.client_id),
                subject: r.subject,
                scope: r.scope,
                session_id: r.session_id,
                auth_time: r.auth_time,
                amr: list_from_json("refresh_tokens.amr", &r.amr)?,
                family_issued_at: r.family_issued_at,
                created_at: r.created_at,
                expires_at: r.expires_at,
                idp: r.idp,
            },
            used_at: r.used_at,
        })
    }
}

impl RefreshTokenStore for Store {
    fn insert_refresh_token(
        &self,
        token: &NewRefreshToken,
        issued: &Issuance,
    ) -> Result<(), oauth::StoreError> {
        let row = RefreshRow::from(token);
        self.transaction(|c| {
            diesel::insert_into(refresh_tokens::table).values(&row).execute(c)?;
            insert_issuance(c, issued)
        })?;
        Ok(())
    }

    fn find_refresh_token(&self, token_hash: &TokenHash) -> Result<Option<RefreshToken>, oauth::StoreError> {
        Ok(self.read(|c| find_in(c, token_hash))?)
    }

    fn refresh_state(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<RefreshState>, oauth::StoreError> {
        Ok(self.read(|c| {
            let Some(token) = find_in(c, token_hash)? else {
                return Ok(None);
            };
            let grant = &token.token.grant_id;
            Ok(Some(RefreshState {
                grant_revoked: grant_revoked_in(c, grant)?,
                standing: standing_in(c, &token.token.subject, now)?,
                claims: grant_claims_in(c, grant)?,
                token,
            }))
        })?)
    }

    fn rotate_refresh_token(
        &self,
        old: &TokenHash,
        next: &NewRefreshToken,
        now: i64,
        issued: &Issuance,
    ) -> Result<Rotation, oauth::StoreError> {
        let old = old.as_str();
        let next = RefreshRow::from(next);
        Ok(self.write_transaction(|c| {
            // The conditional update decides: of parallel rotations exactly one sees one
            // affected row (SQLite: IMMEDIATE transactions run one at a time; PostgreSQL
            // re-checks `used_at IS NULL` after the winner commits).
            let won =
                diesel::update(refresh_tokens::table.find(old).filter(refresh_tokens::used_at.is_null()))
                    .set(refresh_tokens::used_at.eq(now))
                    .execute(c)?;
            if won == 1 {
                diesel::insert_into(refresh_tokens::table).values(&next).execute(c)?;
                insert_issuance(c, issued)?;
                return Ok(Rotation::Rotated);
            }
            let exists = refresh_tokens::table
                .find(old)
                .select(refresh_tokens::token_hash)
                .first::<String>(c)
                .optional()?
                .is_some();
            Ok(if exists { Rotation::AlreadyUsed } else { Rotation::Unknown })
        })?)
    }
}

fn find_in(c: &mut DbConnection, token_hash: &TokenHash) -> Result<Option<RefreshToken>, StoreError> {
    let row = refresh_tokens::table
        .find(token_hash.as_str())
        .select(RefreshRow::as_select())
        .first(c)
        .optional()?;
    row.map(RefreshToken::try_from).transpose()
}

pub(crate) fn standing_in(
    c: &mut DbConnection,
    subject: &str,
    now: i64,
) -> Result<SubjectStanding, StoreError> {
    let Some(tokens_revoked_at) = accounts::table
        .find(subject)
        .select(accounts::tokens_revoked_at)
        .first::<Option<i64>>(c)
        .optional()?
    else {
        return Ok(SubjectStanding::Unknown);
    };
    let locked_until = lockouts::table
        .find(subject)
        .select(lockouts::locked_until)
        .first::<Option<i64>>(c)
        .optional()?
        .flatten();
    // The lockout rule is identity's.
    Ok(if (LockoutState { locked_until, ..Default::default() }).is_locked(now).is_some() {
        SubjectStanding::Locked
    } else {
        SubjectStanding::Active { tokens_revoked_at }
    })
}

impl oauth::SubjectStore for Store {
    fn subject_standing(&self, subject: &str, now: i64) -> Result<SubjectStanding, oauth::StoreError> {
        Ok(self.read(|c| standing_in(c, subject, now))?)
    }

    fn subject_profile(&self, subject: &str) -> Result<Option<oauth::Profile>, oauth::StoreError> {
        Ok(crate::consents::subject_profile(self, subject)?)
    }
}
