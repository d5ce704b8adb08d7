//! Signing keys, JWKS and the JWTs gatehouse issues: ID tokens (OpenID Connect Core §2), access
//! tokens (RFC 9068) and logout tokens (Back-Channel Logout 1.0); plus the opaque 256-bit secrets (codes, session
//! ids, client secrets) that are stored only as SHA-256 hashes; and verification of the JWTs clients sign to
//! authenticate (RFC 7523).
//!
//! Pure domain: this crate knows neither actix-web nor diesel. Storage is the [`KeyStore`] trait,
//! implemented by the `store` crate. Keys are parsed once into aws-lc-rs key pairs and kept;
//! jsonwebtoken is used only to verify.

mod algorithm;
pub mod assertion;
mod claims;
mod error;
mod keyset;
mod logout;
mod master;
mod opaque;
pub mod rotation;
mod signing;
mod store;

pub use algorithm::{Algorithm, at_hash};
pub use assertion::{AssertionKeyError, ClientJwks};
pub use claims::{ACCESS_TOKEN_TYP, AccessTokenClaims, Audience, ID_TOKEN_TYP, IdTokenClaims};
pub use error::TokenError;
pub use keyset::KeySet;
pub use logout::{BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYP, LogoutTokenClaims};
pub use master::MasterKey;
pub use opaque::{OpaqueToken, TokenHash};
pub use signing::SigningKey;
pub use store::{KeyStore, StoreError, StoredKey};
