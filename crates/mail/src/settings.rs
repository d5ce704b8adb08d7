//! The `[mail]` settings: which transport delivers, and the words every message carries.

use std::fmt;
use std::path::PathBuf;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::MailError;

/// How gatehouse sends mail. The server embeds this under `[mail]`; environment variables are
/// `GATEHOUSE_MAIL__<FIELD>`. The defaults need nothing installed: messages land as `.eml`
/// files in `data/mail/`.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `file` (default): one `.eml` per message in `file_dir`; `smtp`: deliver to `smtp_url`;
    /// `log`: log recipient and subject only (the body, which carries codes and links, never).
    pub transport: String,
    /// Where the `file` transport writes `<id>.eml` files; created when missing.
    /// Default `data/mail`.
    pub file_dir: PathBuf,
    /// The relay for the `smtp` transport, in lettre's URL syntax: `smtp://127.0.0.1:2525`
    /// (plain, for a local sink), `smtps://user:pass@host:465` (implicit TLS, RFC 8314),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS, RFC 3207). Percent-encode special
    /// characters in the user and password. Required when `transport` is `smtp`.
    pub smtp_url: String,
    /// The `From` header (RFC 5322 §3.6.2), a mailbox with an optional display name.
    /// Default `Community Access Identity <no-reply@localhost>`.
    pub from: String,
    /// How citizens reach a person, printed at the foot of every message.
    /// Default `ATL311.com or 404-546-0311`.
    pub support_contact: String,
    /// The name citizens know the service by, used in the messages' wording.
    /// Default `Community Access`.
    pub service_name: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            file_dir: PathBuf::from("data/mail"),
            smtp_url: String::new(),
            from: "Community Access Identity <no-reply@localhost>".into(),
            support_contact: "ATL311.com or 404-546-0311".into(),
            service_name: "Community Access".into(),
        }
    }
}

/// The transport a valid [`MailSettings::transport`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransportKind {
    File,
    Smtp,
    Log,
}

impl MailSettings {
    /// Refuses settings that cannot send mail, with one line naming the key. Run at start-up,
    /// so a typo stops the server instead of silently dropping password-reset mail.
    pub fn validate(&self) -> Result<(), MailError> {
        let kind = self.transport_kind()?;
        self.sender()?;
        match kind {
            TransportKind::File if self.file_dir.as_os_str().is_empty() => {
                Err(MailError::settings("mail.file_dir", "required when mail.transport is file"))
            }
            TransportKind::Smtp if self.smtp_url.trim().is_empty() => Err(MailError::settings(
                "mail.smtp_url",
                "required when mail.transport is smtp (e.g. smtp://127.0.0.1:2525)",
            )),
            TransportKind::Smtp => AsyncSmtpTransport::<Tokio1Executor>::from_url(&self.smtp_url)
                .map(|_| ())
                // The URL may hold a password: do not echo it, nor lettre's message about it.
                .map_err(|_| {
                    MailError::settings(
                        "mail.smtp_url",
                        "not an SMTP URL: use smtp://host:port, smtps://user:pass@host:465 \
                         or smtp://user:pass@host:587?tls=required",
                    )
                }),
            _ => Ok(()),
        }
    }

    pub(crate) fn transport_kind(&self) -> Result<TransportKind, MailError> {
        match self.transport.trim() {
            "file" => Ok(TransportKind::File),
            "smtp" => Ok(TransportKind::Smtp),
            "log" => Ok(TransportKind::Log),
            _ => Err(MailError::settings("mail.transport", "use file, smtp or log")),
        }
    }

    pub(crate) fn sender(&self) -> Result<Mailbox, MailError> {
        self.from.parse::<Mailbox>().map_err(|e| {
            MailError::settings("mail.from", format!("not a mailbox like \"Name <user@example.org>\" ({e})"))
        })
    }
}

/// `smtp_url` may carry a password: Debug shows it as `***`, so logging the settings is safe.
impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport)
            .field("file_dir", &self.file_dir)
            .field("smtp_url", &redact_password(&self.smtp_url))
            .field("from", &self.from)
            .field("support_contact", &self.support_contact)
            .field("service_name", &self.service_name)
            .finish()
    }
}

/// `smtps://user:secret@host:465` -> `smtps://user:***@host:465`.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(r: Result<(), MailError>) -> &'static str {
        match r {
            Err(MailError::Settings { key, .. }) => key,
            other => panic!("expected a settings error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_write_files() {
        let s = MailSettings::default();
        assert!(s.validate().is_ok());
        assert_eq!(s.transport_kind().unwrap(), TransportKind::File);
        assert_eq!(s.file_dir, PathBuf::from("data/mail"));
        assert_eq!(s.service_name, "Community Access");
        assert_eq!(s.support_contact, "ATL311.com or 404-546-0311");
    }

    #[test]
    fn unknown_transport_names_the_key() {
        let s = MailSettings { transport: "sendmail".into(), ..MailSettings::default() };
        let e = s.validate().unwrap_err();
        assert_eq!(e.to_string(), "setting mail.transport: use file, smtp or log");
    }

    #[test]
    fn unparsable_from_is_refused() {
        let s = MailSettings { from: "Community Access <not an address".into(), ..MailSettings::default() };
        assert_eq!(key_of(s.validate()), "mail.from");
    }

    #[test]
    fn smtp_without_url_is_refused() {
        let s = MailSettings { transport: "smtp".into(), ..MailSettings::default() };
        assert_eq!(key_of(s.validate()), "mail.smtp_url");
    }

    #[test]
    fn smtp_with_bad_url_is_refused_without_echoing_it() {
        let s = MailSettings {
            transport: "smtp".into(),
            smtp_url: "imap://user:hunter2@mail.example.org".into(),
            ..MailSettings::default()
        };
        let e = s.validate().unwrap_err();
        assert!(e.to_string().starts_with("setting mail.smtp_url: "), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn smtp_url_forms_from_the_docs_are_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtps://user:pass@mail.example.org:465",
            "smtp://user:pass@mail.example.org:587?tls=required",
        ] {
            let s =
                MailSettings { transport: "smtp".into(), smtp_url: url.into(), ..MailSettings::default() };
            assert!(s.validate().is_ok(), "{url}");
        }
    }

    #[test]
    fn file_transport_needs_a_directory() {
        let s = MailSettings { file_dir: PathBuf::new(), ..MailSettings::default() };
        assert_eq!(key_of(s.validate()), "mail.file_dir");
    }

    #[test]
    fn unknown_keys_are_refused_and_missing_keys_default() {
        let parsed: MailSettings = serde_json::from_str(r#"{"transport":"log"}"#).unwrap();
        assert_eq!(parsed.transport, "log");
        assert_eq!(parsed.from, MailSettings::default().from);
        assert!(serde_json::from_str::<MailSettings>(r#"{"smtp_host":"x"}"#).is_err());
    }

    #[test]
    fn debug_hides_the_smtp_password() {
        let s = MailSettings {
            smtp_url: "smtps://mailer:hunter2@mail.example.org:465".into(),
            ..MailSettings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("smtps://mailer:***@mail.example.org:465"), "{shown}");
    }

    #[test]
    fn redact_keeps_urls_without_password() {
        assert_eq!(redact_password("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
        assert_eq!(redact_password("smtp://u@h:25"), "smtp://u@h:25");
        assert_eq!(redact_password("smtp://u:p%40ss@h:587?tls=required"), "smtp://u:***@h:587?tls=required");
    }
}
