//! Delivery: one [`Mailer`] built from the settings at start-up, shared by clones.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::settings::TransportKind;
use crate::smtp::{Delivery, Relay};
use crate::{MailError, MailSettings};

/// How long one SMTP command may take (connect included) before the send fails as transient.
/// RFC 5321 §4.5.3.2 lets servers take minutes; the outbox worker retries instead of waiting.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One message, ready to send: the outbox table stores it as JSON and the worker sends it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The recipient, `user@example.org` or `Name <user@example.org>`.
    pub to: String,
    /// The subject line; never carries a code or link, since the log transport prints it.
    pub subject: String,
    /// The `text/plain` alternative.
    pub text: String,
    /// The `text/html` alternative.
    pub html: String,
}

/// The bodies hold sign-in codes and reset links: Debug shows only their lengths.
impl fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &format_args!("<{} bytes>", self.text.len()))
            .field("html", &format_args!("<{} bytes>", self.html.len()))
            .finish()
    }
}

/// Sends [`OutgoingMessage`]s through the configured transport. Built once; clones share it.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    transport: Transport,
}

enum Transport {
    File { dir: PathBuf, files: AsyncFileTransport<Tokio1Executor> },
    Smtp(Arc<Relay>),
    Log,
}

impl Mailer {
    /// Validates the settings and builds the transport. Opens no connection: an SMTP relay that
    /// is down at start-up only delays mail, it does not stop the server.
    pub fn from_settings(settings: &MailSettings) -> Result<Self, MailError> {
        settings.validate()?;
        let from = settings.sender()?;
        let transport = match settings.transport_kind()? {
            TransportKind::File => Transport::File {
                dir: settings.file_dir.clone(),
                files: AsyncFileTransport::new(&settings.file_dir),
            },
            TransportKind::Smtp => {
                Transport::Smtp(Arc::new(Relay::from_url(&settings.smtp_url, SMTP_TIMEOUT)?))
            }
            TransportKind::Log => Transport::Log,
        };
        Ok(Self { inner: Arc::new(Inner { from, transport }) })
    }

    /// Delivers one message as `multipart/alternative` (RFC 2046 §5.1.4), text first and HTML
    /// last, so clients show the richest part they can. The error says whether a retry may help
    /// ([`MailError::is_permanent`]).
    pub async fn send(&self, message: &OutgoingMessage) -> Result<(), MailError> {
        match self.send_recorded(message, || true).await {
            Delivery::Delivered | Delivery::Unrecorded { .. } => Ok(()),
            Delivery::Failed(e) | Delivery::InDoubt(e) => Err(e),
        }
    }

    /// Delivers one message as [`send`](Self::send) does, running `record` (the outbox's "sent"
    /// commit; it returns whether it committed) at the last moment before the hand-over can no
    /// longer fail to happen: over SMTP between the body and the final `.` (see `smtp`); for a
    /// file or the log, before writing, and a failed `record` writes nothing.
    pub async fn send_recorded<R>(&self, message: &OutgoingMessage, record: R) -> Delivery
    where
        R: FnOnce() -> bool + Send + 'static,
    {
        let email = match self.build(message) {
            Ok(email) => email,
            Err(e) => return Delivery::Failed(e),
        };
        if let Transport::Smtp(relay) = &self.inner.transport {
            let delivery = relay.deliver(email.envelope().clone(), email.formatted(), record).await;
            if matches!(delivery, Delivery::Delivered) {
                tracing::debug!(to = %message.to, "mail accepted by the SMTP relay");
            }
            return delivery;
        }
        if !record() {
            return Delivery::Unrecorded { accepted: false };
        }
        match self.hand_to_file_or_log(message, email).await {
            Ok(()) => Delivery::Delivered,
            Err(e) => Delivery::Failed(e),
        }
    }

    async fn hand_to_file_or_log(&self, message: &OutgoingMessage, email: Message) -> Result<(), MailError> {
        match &self.inner.transport {
            Transport::File { dir, files } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| MailError::Transient(format!("cannot create {}: {e}", dir.display())))?;
                let id = files.send(email).await?;
                tracing::debug!(id, to = %message.to, "mail written to {}", dir.display());
            }
            Transport::Log | Transport::Smtp(_) => {
                // Recipient and subject only: the body carries codes and links.
                tracing::info!(
                    to = %message.to,
                    subject = %message.subject,
                    "mail not delivered (mail.transport = log)"
                );
            }
        }
        Ok(())
    }

    fn build(&self, message: &OutgoingMessage) -> Result<Message, MailError> {
        let to: Mailbox =
            message.to.parse().map_err(|e| MailError::Address(format!("{:?}: {e}", message.to)))?;
        Message::builder()
            .from(self.inner.from.clone())
            .to(to)
            .subject(message.subject.as_str())
            // RFC 5322 §3.6.4: a unique Message-ID, generated from the host name.
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
            .map_err(|e| MailError::Permanent(format!("cannot build the message: {e}")))
    }
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.inner.transport {
            Transport::File { dir, .. } => format!("file({})", dir.display()),
            // The transport's own Debug could show the relay's credentials.
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Log => "log".to_owned(),
        };
        f.debug_struct("Mailer")
            .field("from", &self.inner.from.to_string())
            .field("transport", &transport)
            .finish()
    }
}
