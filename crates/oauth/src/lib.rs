//! The OAuth 2.0 / OpenID Connect protocol engine, free of HTTP: clients and their registration
//! rules, authorization requests, PKCE, authorization codes, the token grant, scopes to claims,
//! and the wire error codes.
//!
//! It takes plain values (subject, `auth_time`, `amr`, `now`) and returns plain values; it never
//! sees an HTTP request. It depends on `tokens` only. Storage is the [`ClientStore`],
//! [`CodeStore`], [`GrantStore`], [`RefreshTokenStore`], [`SubjectStore`],
//! [`BackChannelStore`], [`ConsentStore`], [`PortalStore`], [`PushedRequestStore`] and [`AssertionReplayStore`] traits, implemented by the
//! `store` crate.
//!
//! Modules, in the order a sign-in meets them: [`client`] (registration), [`authorize`]
//! (the authorization request, pushed requests, the session decision, consent, the code, the
//! response back), [`claims_request`] (the `claims` parameter),
//! [`client_auth`] with [`client_assertion`] (RFC 7523 JWTs) and [`token`] (the token endpoint: code, refresh and client credentials
//! grants), [`claims`] (userinfo), [`revoke`] and [`introspect`] (RFC 7009, RFC 7662), with
//! [`scope`], [`pkce`] and [`error`] underneath; [`portals`] is what a citizen sees and removes
//! under "Connected portals" (consents and live grants, one entry per client); [`logout`] ends sessions at a relying party's
//! request (RP-Initiated Logout) and tells the others (Back-Channel Logout).

pub mod authorize;
pub mod claims;
pub mod claims_request;
pub mod client;
pub mod client_assertion;
pub mod client_auth;
mod client_keys;
pub mod error;
pub mod introspect;
pub mod logout;
mod lookup;
pub mod pkce;
pub mod portals;
pub mod revoke;
pub mod scope;
mod store;
pub mod token;

#[cfg(test)]
mod testgrant;
#[cfg(test)]
mod testutil;

pub use authorize::{
    AuthorizationParams, AuthorizationRequest, AuthorizationResponse, AuthorizePageError, CodeGrant,
    ConsentDecision, ResponseMode, SessionDecision,
};
pub use claims::{Profile, SUPPORTED_CLAIMS, SUPPORTED_SCOPES, userinfo_claims};
pub use claims_request::ClaimsRequest;
pub use client::{ClientRegistration, RegistrationError};
pub use client_assertion::{AssertionError, AssertionKey, VerifiedAssertion};
pub use client_auth::{BodyCredentials, ClientAuthError, PresentedCredentials};
pub use client_keys::{open_client_secret, seal_client_secret};
pub use error::{ErrorCode, OAuthError};
pub use introspect::{Introspection, introspect};
pub use logout::{BackChannelStore, LogoutError, LogoutParams, LogoutRequest, PendingLogout};
pub use lookup::TokenHintParams;
pub use portals::{
    ConnectedPortal, PortalFacts, PortalRemoval, PortalStore, StoredConsent, StoredFamily, connected,
};
pub use revoke::{Revocation, revoke};
pub use scope::Scopes;
pub use store::{
    AssertionReplayStore, AuthorizationCode, Client, ClientId, ClientKeys, ClientStore, CodeStore,
    ConsentStore, GrantId, GrantStore, Issuance, NewCode, NewRefreshToken, PushedRequest, PushedRequestStore,
    Redeem, RefreshState, RefreshToken, RefreshTokenStore, Rotation, StoreError, SubjectStanding,
    SubjectStore,
};
pub use token::{
    BearerError, GrantType, TokenGrantError, TokenParams, TokenResponse, TokenSettings, TokenStore,
    client_credentials, grant, validate_bearer,
};
