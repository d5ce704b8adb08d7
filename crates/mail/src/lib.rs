//! Mail for gatehouse: the transports that deliver it (SMTP through lettre, `.eml` files, or the
//! log) and the messages citizens receive — password reset, account unlock, email verification
//! and sign-in codes — in the wording of the city's sign-in guides.
//!
//! This crate depends on no other gatehouse crate, nor on actix-web or diesel. It builds and
//! sends a message; deciding when to send (the outbox written in the same transaction as the
//! change that caused it, and the worker that retries [`MailError::Transient`] failures) belongs
//! to `store` and `server`.
//!
//! ```text
//! settings -> Mailer::from_settings ─┐
//! messages::password_reset(..) ──────┴─> Mailer::send_recorded -> smtp | file (.eml) | log
//! ```
//!
//! Over SMTP the session is lettre's connection driven step by step (`smtp`), so that the
//! outbox's "sent" is committed after the body and before the final `.` of DATA.

mod error;
mod mailer;
mod mask;
pub mod messages;
pub mod outbox;
mod settings;
mod smtp;

pub use error::MailError;
pub use mailer::{Mailer, OutgoingMessage};
pub use mask::mask_email;
pub use outbox::{Outbox, OutboxError, QueuedMessage};
pub use settings::MailSettings;
pub use smtp::Delivery;
