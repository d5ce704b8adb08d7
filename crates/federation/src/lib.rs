//! Upstream sign-in: "Sign in with Google", "Sign in with Microsoft" and generic OpenID Connect
//! providers configured by settings alone. It owns the `[federation]` settings, the upstream
//! OpenID Connect client (discovery, authorization URL with state, nonce and PKCE, code
//! exchange, ID token validation, all through the `openidconnect` crate) and returns a verified
//! [`ExternalIdentity`].
//!
//! It depends on no other gatehouse crate, nor on actix-web or diesel: the server generates the
//! flow's secrets, keeps the pending flow in the database and decides what the identity means
//! for an account.

mod settings;

pub use settings::{
    DEFAULT_SCOPES, FederationSettings, GOOGLE_ISSUER, GenericProviderSettings, MICROSOFT_ISSUER,
    ProviderConfig, ProviderSettings, SettingsError,
};
mod client;
mod error;
mod identity;
mod issuer;

pub use client::{Federation, FlowSecrets, ProviderInfo};
pub use error::FederationError;
pub use identity::{Callback, ExternalIdentity};
