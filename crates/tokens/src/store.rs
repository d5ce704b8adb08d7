//! What the key store must do. The `store` crate implements it on SQLite and PostgreSQL.

/// A signing key as kept in the database: the private key is sealed with the master key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The JWK `kid` (RFC 7638 thumbprint of the public key).
    pub kid: String,
    /// `RS256` or `ES256` (the JWS `alg`).
    pub alg: String,
    /// PKCS#8 DER of the private key, sealed by [`crate::MasterKey`] (nonce ‖ ciphertext ‖ tag).
    pub sealed_private_key: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
    /// From when it signs new tokens ([`crate::rotation`]); before that it is only published.
    pub activates_at: i64,
    /// From when it no longer signs; it stays published a while longer. `None`: not retired.
    pub retires_at: Option<i64>,
}

/// An infrastructure failure in a store; opaque to the domain, logged with its chain.
#[derive(Debug, thiserror::Error)]
#[error("store failure")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

pub trait KeyStore {
    /// Every stored key, oldest first.
    fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Adds a key; a key with the same `kid` already present is left as it is.
    fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    /// Rotates `new`'s algorithm in one transaction: reads the stored keys, decides with
    /// [`crate::rotation::plan`] (`lead_secs`, `when`), and when it says rotate, inserts `new`
    /// activating then and retires the keys it names. Returns the decision.
    fn rotate_key(
        &self,
        new: &StoredKey,
        now: i64,
        lead_secs: i64,
        when: crate::rotation::RotateWhen,
    ) -> Result<crate::rotation::Rotation, StoreError>;
}
