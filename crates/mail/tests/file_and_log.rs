//! The file transport (the zero-configuration default) and the log transport.
#![expect(clippy::unwrap_used, reason = "test helpers: a broken fixture should fail the test loudly")]

mod common;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::parse;
use gatehouse_mail::{MailError, MailSettings, Mailer, messages};

const LINK: &str = "https://id.example.org/unlock/c2VjcmV0LXRva2Vu";

fn eml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[tokio::test]
async fn file_transport_writes_a_parseable_eml_and_creates_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data").join("mail");
    let settings = MailSettings { file_dir: dir.clone(), ..MailSettings::default() };
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = messages::unlock_account(&settings, "Betty Rubble <betty@example.org>", LINK, 60);

    mailer.send(&message).await.unwrap();

    let files = eml_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let parsed = parse(&std::fs::read(&files[0]).unwrap());
    assert_eq!(parsed.subject, "Unlock your account");
    assert_eq!(parsed.from_name, "Community Access Identity");
    assert_eq!(parsed.from_address, "no-reply@localhost");
    assert_eq!(parsed.to_address, "betty@example.org");
    assert_eq!(parsed.content_type, "multipart/alternative");
    assert!(parsed.message_id.is_some());
    assert!(parsed.text.contains(LINK), "{}", parsed.text);
    assert!(parsed.text.contains("Unlock account"), "{}", parsed.text);
    assert!(parsed.html.contains(&format!(r#"href="{LINK}""#)), "{}", parsed.html);
    assert!(parsed.html.contains(">Unlock account</a>"), "{}", parsed.html);
}

#[tokio::test]
async fn file_transport_writes_one_file_per_message() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = MailSettings { file_dir: tmp.path().to_owned(), ..MailSettings::default() };
    let mailer = Mailer::from_settings(&settings).unwrap();
    for code in ["111111", "222222"] {
        let m = messages::sign_in_code(&settings, "betty@example.org", code, 10);
        mailer.send(&m).await.unwrap();
    }
    let mut codes: Vec<_> = eml_files(tmp.path())
        .iter()
        .map(|f| parse(&std::fs::read(f).unwrap()).text)
        .map(|t| {
            if t.contains("111111") {
                1
            } else if t.contains("222222") {
                2
            } else {
                0
            }
        })
        .collect();
    codes.sort();
    assert_eq!(codes, [1, 2]);
}

#[tokio::test]
async fn file_transport_refuses_a_malformed_recipient() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = MailSettings { file_dir: tmp.path().to_owned(), ..MailSettings::default() };
    let mailer = Mailer::from_settings(&settings).unwrap();
    let m = messages::verify_email(&settings, "betty\r\nBcc: all@example.org", LINK, 60);

    let err = mailer.send(&m).await.unwrap_err();

    assert!(matches!(err, MailError::Address(_)), "{err:?}");
    assert!(eml_files(tmp.path()).is_empty());
}

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn log_transport_logs_recipient_and_subject_but_never_the_body() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: the guard covers the whole send.
    let _guard = tracing::subscriber::set_default(subscriber);
    let settings = MailSettings { transport: "log".into(), ..MailSettings::default() };
    let mailer = Mailer::from_settings(&settings).unwrap();
    let m = messages::sign_in_code(&settings, "betty@example.org", "482913", 10);

    mailer.send(&m).await.unwrap();

    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("betty@example.org"), "{logged}");
    assert!(logged.contains("Your sign-in code"), "{logged}");
    assert!(!logged.contains("482913"), "the code leaked into the log: {logged}");
}

#[test]
fn mailer_is_cheap_to_share_across_tasks() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Mailer>();
}

#[test]
fn from_settings_refuses_what_validate_refuses() {
    let err = Mailer::from_settings(&MailSettings { transport: "smtp".into(), ..MailSettings::default() })
        .unwrap_err();
    assert!(err.to_string().starts_with("setting mail.smtp_url:"), "{err}");
}

#[test]
fn debug_never_shows_bodies_or_relay_credentials() {
    let settings = MailSettings {
        transport: "smtp".into(),
        smtp_url: "smtps://mailer:hunter2@mail.example.org:465".into(),
        ..MailSettings::default()
    };
    let mailer = Mailer::from_settings(&settings).unwrap();
    assert!(!format!("{mailer:?}").contains("hunter2"));
    let m = messages::sign_in_code(&settings, "betty@example.org", "482913", 10);
    let shown = format!("{m:?}");
    assert!(!shown.contains("482913"), "{shown}");
    assert!(shown.contains("Your sign-in code"), "{shown}");
}

#[test]
fn outgoing_message_round_trips_through_json() {
    let m = messages::password_reset(&MailSettings::default(), "betty@example.org", LINK, 60);
    let json = serde_json::to_string(&m).unwrap();
    let back: gatehouse_mail::OutgoingMessage = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}
