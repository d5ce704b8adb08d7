//! The SMTP transport against a real SMTP server on loopback (mailin-embedded): delivery, the
//! envelope, and how failures are classified for the outbox worker's retry decision.

mod common;

use common::{SmtpSink, closed_port, parse};
use gatehouse_mail::{MailError, MailSettings, Mailer, messages};

const LINK: &str = "https://id.example.org/reset/Zm9vYmFyYmF6";

fn smtp_settings(url: String) -> MailSettings {
    MailSettings { transport: "smtp".into(), smtp_url: url, ..MailSettings::default() }
}

#[tokio::test]
async fn smtp_delivers_envelope_and_both_parts() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = messages::password_reset(&settings, "Betty Rubble <betty@example.org>", LINK, 60);

    mailer.send(&message).await.unwrap();

    let received = sink.received();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.mail_from, "no-reply@localhost");
    assert_eq!(got.rcpt_to, ["betty@example.org"]);
    let parsed = parse(&got.data);
    assert_eq!(parsed.subject, "Reset your password");
    assert_eq!(parsed.from_name, "Community Access Identity");
    assert_eq!(parsed.to_address, "betty@example.org");
    assert_eq!(parsed.content_type, "multipart/alternative");
    assert!(parsed.text.contains(LINK), "{}", parsed.text);
    assert!(parsed.html.contains(LINK), "{}", parsed.html);
    assert!(parsed.text.contains("ATL311.com or 404-546-0311"));
}

#[tokio::test]
async fn clones_share_one_transport_and_each_send_arrives() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let other = mailer.clone();
    let code = messages::sign_in_code(&settings, "a@example.org", "482913", 10);
    let verify = messages::verify_email(&settings, "b@example.org", LINK, 60);

    let (first, second) = tokio::join!(mailer.send(&code), other.send(&verify));
    first.unwrap();
    second.unwrap();

    let mut subjects: Vec<_> = sink.received().iter().map(|r| parse(&r.data).subject).collect();
    subjects.sort();
    assert_eq!(subjects, ["Verify your email address", "Your sign-in code"]);
}

#[tokio::test]
async fn refused_connection_is_transient() {
    let mailer =
        Mailer::from_settings(&smtp_settings(format!("smtp://127.0.0.1:{}", closed_port()))).unwrap();
    let message = messages::sign_in_code(&MailSettings::default(), "betty@example.org", "482913", 10);

    let err = mailer.send(&message).await.unwrap_err();

    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn rcpt_550_is_permanent() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = messages::password_reset(&settings, "refused@example.org", LINK, 60);

    let err = mailer.send(&message).await.unwrap_err();

    assert!(matches!(err, MailError::Permanent(_)), "{err:?}");
    assert!(err.is_permanent());
    assert!(err.to_string().contains("550"), "{err}");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn rcpt_450_is_transient() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = messages::password_reset(&settings, "busy@example.org", LINK, 60);

    let err = mailer.send(&message).await.unwrap_err();

    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn malformed_recipient_is_an_address_error_and_nothing_is_sent() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = messages::password_reset(&settings, "betty at example dot org", LINK, 60);

    let err = mailer.send(&message).await.unwrap_err();

    assert!(matches!(err, MailError::Address(_)), "{err:?}");
    assert!(err.is_permanent());
    assert!(sink.received().is_empty());
}
