//! Flows that cross domains (STYLE.md): short functions with one domain call per step.

pub mod authorize;
pub mod code;
pub mod email_code;
pub mod lockout;
pub mod mail;
pub mod outbox;
pub mod password;
pub mod profile;
pub mod session;
pub mod signup;
