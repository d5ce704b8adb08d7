//! HTTP plumbing shared by the routes: the one error-to-response mapping, client
//! authentication, cookies and CSRF, the abuse layer (per-IP rate limits, the client address,
//! security headers), and the operational layer (request ids, the access log, metrics).

pub mod access;
pub mod client_auth;
pub mod client_cache;
pub mod client_ip;
pub mod client_jwks;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod fallback;
pub mod forwarded;
pub mod headers;
pub mod limits;
pub mod metrics;
pub mod outbound;
pub mod request_id;
