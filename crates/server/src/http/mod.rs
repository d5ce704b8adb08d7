//! HTTP plumbing shared by the routes: the one error-to-response mapping, client
//! authentication, cookies and CSRF, and the operational layer (request ids, the access log,
//! metrics).

pub mod access;
pub mod client_auth;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod fallback;
pub mod metrics;
pub mod request_id;
