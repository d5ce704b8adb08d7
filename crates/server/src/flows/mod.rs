//! Flows that cross domains (STYLE.md): short functions with one domain call per step.

pub mod code;
pub mod mail;
pub mod outbox;
pub mod password;
pub mod session;
pub mod signup;
