//! Flows that cross domains (STYLE.md): short functions with one domain call per step.

pub mod authorize;
pub mod backchannel;
pub mod code;
pub mod email_code;
pub mod end_sessions;
pub mod federation;
pub mod lockout;
pub mod logout;
pub mod mail;
pub mod outbox;
pub mod password;
pub mod portals;
pub mod profile;
pub mod purge;
pub mod session;
pub mod signup;
