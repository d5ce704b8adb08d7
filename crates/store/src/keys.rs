//! Signing keys (`tokens::KeyStore`).

use diesel::prelude::*;
use tokens::rotation::{self, RotateWhen, Rotation};
use tokens::{Algorithm, KeyStore, StoredKey};

use crate::Store;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::signing_keys;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    alg: String,
    sealed_private_key: Vec<u8>,
    created_at: i64,
    activates_at: i64,
    retires_at: Option<i64>,
}

impl From<KeyRow> for StoredKey {
    fn from(r: KeyRow) -> Self {
        StoredKey {
            kid: r.kid,
            alg: r.alg,
            sealed_private_key: r.sealed_private_key,
            created_at: r.created_at,
            activates_at: r.activates_at,
            retires_at: r.retires_at,
        }
    }
}

impl From<&StoredKey> for KeyRow {
    fn from(key: &StoredKey) -> Self {
        KeyRow {
            kid: key.kid.clone(),
            alg: key.alg.clone(),
            sealed_private_key: key.sealed_private_key.clone(),
            created_at: key.created_at,
            activates_at: key.activates_at,
            retires_at: key.retires_at,
        }
    }
}

fn list(c: &mut DbConnection) -> Result<Vec<StoredKey>, StoreError> {
    let rows = signing_keys::table
        .order((signing_keys::created_at, signing_keys::kid))
        .select(KeyRow::as_select())
        .load(c)?;
    Ok(rows.into_iter().map(StoredKey::from).collect())
}

impl KeyStore for Store {
    fn list_keys(&self) -> Result<Vec<StoredKey>, tokens::StoreError> {
        Ok(self.read(list)?)
    }

    fn insert_key(&self, key: &StoredKey) -> Result<(), tokens::StoreError> {
        let row = KeyRow::from(key);
        let inserted =
            self.transaction(|c| Ok(diesel::insert_into(signing_keys::table).values(&row).execute(c)?));
        match inserted {
            // The kid is a thumbprint: the same kid is the same key, already stored.
            Err(e) if e.is_unique_violation(&["signing_keys_pkey", "signing_keys.kid"]) => Ok(()),
            other => Ok(other.map(drop)?),
        }
    }

    fn rotate_key(
        &self,
        new: &StoredKey,
        now: i64,
        lead_secs: i64,
        when: RotateWhen,
    ) -> Result<Rotation, tokens::StoreError> {
        let Some(alg) = Algorithm::parse(&new.alg) else {
            return Err(tokens::StoreError(format!("unknown algorithm {}", new.alg).into()));
        };
        Ok(self.write_transaction(|c| {
            // Two nodes on one schedule: on PostgreSQL the table lock makes the second wait and
            // then see the first one's pending key; SQLite's IMMEDIATE transaction does the same.
            if let DbConnection::Postgresql(pg) = c {
                diesel::sql_query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE").execute(pg)?;
            }
            let decision = rotation::plan(&list(c)?, alg, now, lead_secs, when);
            if let Rotation::Rotate { at, retire } = &decision {
                diesel::update(signing_keys::table.filter(signing_keys::kid.eq_any(retire)))
                    .set(signing_keys::retires_at.eq(Some(*at)))
                    .execute(c)?;
                let row = KeyRow { activates_at: *at, retires_at: None, ..KeyRow::from(new) };
                diesel::insert_into(signing_keys::table).values(&row).execute(c)?;
            }
            Ok(decision)
        })?)
    }
}
