//! HTTP plumbing shared by the routes: the one error-to-response mapping, cookies and CSRF.

pub mod cookies;
pub mod csrf;
pub mod error;
