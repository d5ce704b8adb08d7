//! Upstream sign-in: "Sign in with Google", Apple, Microsoft, Facebook and generic OpenID Connect
//! providers configured by settings alone. It owns the `[federation]` settings, the upstream
//! OpenID Connect client (discovery, authorization URL with state, nonce and PKCE, code
//! exchange, ID token validation, all through the `openidconnect` crate; Apple's self-signed
//! client secret and `form_post` answer), Facebook's OAuth 2.0 + Graph API flow, and returns a
//! verified [`ExternalIdentity`].
//!
//! It depends on no other gatehouse crate, nor on actix-web or diesel: the server generates the
//! flow's secrets, keeps the pending flow in the database and decides what the identity means
//! for an account.

mod apple;
mod facebook;
mod settings;

pub use apple::{APPLE_ISSUER, APPLE_SCOPES, AppleKey, AppleSettings};
pub use facebook::{
    FACEBOOK_AUTHORIZE_URL, FACEBOOK_GRAPH_URL, FACEBOOK_TOKEN_URL, FacebookEndpoints, FacebookSettings,
    appsecret_proof,
};
pub use settings::{
    DEFAULT_SCOPES, FederationSettings, GOOGLE_ISSUER, GenericProviderSettings, MICROSOFT_ISSUER,
    ProviderConfig, ProviderKind, ProviderSettings, SettingsError,
};
mod client;
mod error;
mod identity;
mod issuer;

pub use client::{Federation, FlowSecrets, ProviderInfo};
pub use error::FederationError;
pub use identity::{AMR_FEDERATED, Callback, ExternalIdentity};
