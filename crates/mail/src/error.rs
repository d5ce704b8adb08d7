//! The one error type of the mail crate, shaped for the outbox worker: it must know whether a
//! failed delivery is worth retrying.

/// Why a message could not be sent, or why the settings were refused.
///
/// [`MailError::is_permanent`] is the worker's question: permanent failures (a malformed
/// recipient, a 5xx reply) are dropped or flagged; everything else is retried later.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A `[mail]` setting is wrong; raised at start-up by [`crate::MailSettings::validate`],
    /// never by [`crate::Mailer::send`].
    #[error("setting {key}: {message}")]
    Settings {
        /// The dotted settings key, e.g. `mail.transport`.
        key: &'static str,
        /// What is wrong and what would be right, one line.
        message: String,
    },
    /// The recipient is not a mailbox (RFC 5322 §3.4): no retry can fix it.
    #[error("bad recipient address: {0}")]
    Address(String),
    /// The connection failed or the server answered 4xx (RFC 5321 §4.2.1): retry later.
    #[error("mail delivery failed, retry later: {0}")]
    Transient(String),
    /// The server answered 5xx (RFC 5321 §4.2.1) or the message cannot be built: do not retry.
    #[error("mail delivery refused: {0}")]
    Permanent(String),
}

impl MailError {
    /// True when sending the same message again cannot succeed.
    ///
    /// Settings errors say nothing about a message (they stop the server starting), so they are
    /// not permanent in this sense.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Address(_) | Self::Permanent(_))
    }

    pub(crate) fn settings(key: &'static str, message: impl Into<String>) -> Self {
        Self::Settings { key, message: message.into() }
    }
}

/// Classifies an SMTP failure by its reply code, RFC 5321 §4.2.1: "5yz Permanent Negative
/// Completion reply", "4yz Transient Negative Completion reply". Errors without a reply
/// (refused connection, timeout, TLS handshake, garbled response) may pass, so they are
/// transient: a misconfigured relay is fixed by the operator, and the queued mail then goes out.
impl From<lettre::transport::smtp::Error> for MailError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        let text = chain(&e);
        if e.is_permanent() { Self::Permanent(text) } else { Self::Transient(text) }
    }
}

/// A file that cannot be written (full disk, permissions) may be writable later.
impl From<lettre::transport::file::Error> for MailError {
    fn from(e: lettre::transport::file::Error) -> Self {
        Self::Transient(chain(&e))
    }
}

/// The error and its sources on one line, so a log shows why ("connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_address_and_permanent_are_permanent() {
        assert!(MailError::Address("x".into()).is_permanent());
        assert!(MailError::Permanent("550".into()).is_permanent());
        assert!(!MailError::Transient("421".into()).is_permanent());
        assert!(!MailError::settings("mail.transport", "use file, smtp or log").is_permanent());
    }

    #[test]
    fn settings_error_names_the_key_on_one_line() {
        let e = MailError::settings("mail.transport", "use file, smtp or log");
        assert_eq!(e.to_string(), "setting mail.transport: use file, smtp or log");
    }
}
