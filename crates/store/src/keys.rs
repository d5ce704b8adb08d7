//! Signing keys (`tokens::KeyStore`).

use diesel::prelude::*;
use tokens::{KeyStore, StoredKey};

use crate::Store;
use crate::schema::signing_keys;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    alg: String,
    sealed_private_key: Vec<u8>,
    created_at: i64,
}

impl From<KeyRow> for StoredKey {
    fn from(r: KeyRow) -> Self {
        StoredKey {
            kid: r.kid,
            alg: r.alg,
            sealed_private_key: r.sealed_private_key,
            created_at: r.created_at,
        }
    }
}

impl KeyStore for Store {
    fn list_keys(&self) -> Result<Vec<StoredKey>, tokens::StoreError> {
        let rows = self.transaction(|c| {
            Ok(signing_keys::table
                .order((signing_keys::created_at, signing_keys::kid))
                .select(KeyRow::as_select())
                .load(c)?)
        })?;
        Ok(rows.into_iter().map(StoredKey::from).collect())
    }

    fn insert_key(&self, key: &StoredKey) -> Result<(), tokens::StoreError> {
        let row = KeyRow {
            kid: key.kid.clone(),
            alg: key.alg.clone(),
            sealed_private_key: key.sealed_private_key.clone(),
            created_at: key.created_at,
        };
        let inserted =
            self.transaction(|c| Ok(diesel::insert_into(signing_keys::table).values(&row).execute(c)?));
        match inserted {
            // The kid is a thumbprint: the same kid is the same key, already stored.
            Err(e) if e.is_unique_violation(&["signing_keys_pkey", "signing_keys.kid"]) => Ok(()),
            other => Ok(other.map(drop)?),
        }
    }
}
