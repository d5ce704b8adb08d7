//! HTTP plumbing shared by the routes: the one error-to-response mapping, client
//! authentication, cookies and CSRF.

pub mod client_auth;
pub mod cookies;
pub mod csrf;
pub mod error;
