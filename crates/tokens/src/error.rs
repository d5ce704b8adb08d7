//! The crate's one error type.

use crate::store::StoreError;

/// Everything that can go wrong in `tokens`.
///
/// The token-rejection variants (`Malformed` … `Expired`) are what a presented JWT earns; the
/// server maps them all to `invalid_token` (RFC 6750 §3.1) and may log the variant. The others
/// are configuration or infrastructure failures.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The configured master key is unusable. The detail never contains key material.
    #[error("master key must be standard or url-safe base64 of exactly 32 bytes ({0})")]
    InvalidMasterKey(&'static str),
    /// AES-GCM authentication failed: wrong master key, wrong associated data, or tampering.
    #[error("sealed data could not be opened (wrong master key, wrong context or tampered)")]
    Unseal,
    /// A JWS `alg` this crate does not sign with.
    #[error("unsupported signing algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A stored key opened but is not what its row says it is.
    #[error("stored key {kid:?} is invalid: {reason}")]
    InvalidStoredKey { kid: String, reason: &'static str },
    /// aws-lc-rs refused an operation that should not fail (key generation, signing).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
    /// The claims could not be turned into JSON.
    #[error("claims could not be serialised")]
    Claims(#[source] serde_json::Error),
    #[error("key store failure")]
    Store(#[from] StoreError),

    /// Not a compact JWS, bad base64/JSON, missing or ill-typed claims, or an unsupported header.
    #[error("token is malformed")]
    Malformed,
    /// The header `typ` is absent or not the expected one (RFC 8725 §3.11).
    #[error("token type is not {expected:?}")]
    WrongType { expected: String },
    /// No key with the header's `kid`, or the key is for another `alg`.
    #[error("token is signed by an unknown key")]
    UnknownKey,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token was not issued by this issuer")]
    WrongIssuer,
    #[error("token has expired")]
    Expired,
}

impl TokenError {
    /// True for the errors a presented token earns (as opposed to server-side failures).
    pub fn is_invalid_token(&self) -> bool {
        matches!(
            self,
            Self::Malformed
                | Self::WrongType { .. }
                | Self::UnknownKey
                | Self::BadSignature
                | Self::WrongIssuer
                | Self::Expired
        )
    }
}
