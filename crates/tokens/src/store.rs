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
}
