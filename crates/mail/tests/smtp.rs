//! The SMTP transport against a real SMTP server on loopback (mailin-embedded): delivery, the
//! envelope, and how failures are classified for the outbox worker's retry decision.

mod common;

use common::{SmtpSink, closed_port, parse};
use gatehouse_mail::{Delivery, MailError, MailSettings, Mailer, messages};

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

/// The outbox's "sent" is committed after the body and before the final `.`: when `record`
/// runs the relay holds nothing it may deliver, and right after it, the message.
#[tokio::test]
async fn sent_is_recorded_before_the_relay_can_accept_the_message() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let arrived = sink.counter();
    let (tx, rx) = std::sync::mpsc::channel();
    let record = move || {
        tx.send(arrived()).unwrap();
        true
    };
    let delivery =
        mailer.send_recorded(&messages::verify_email(&settings, "c@example.org", LINK, 60), record).await;
    assert!(matches!(delivery, Delivery::Delivered), "{delivery:?}");
    assert_eq!(rx.try_recv(), Ok(0), "recorded once, before the relay had the message");
    assert_eq!(sink.received().len(), 1);
}

/// A refusal before the hand-over never reaches `record`.
#[tokio::test]
async fn a_refused_recipient_is_never_recorded_sent() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let record = move || tx.send(()).is_ok();
    let delivery = mailer
        .send_recorded(&messages::verify_email(&settings, "refused@example.org", LINK, 60), record)
        .await;
    assert!(matches!(delivery, Delivery::Failed(MailError::Permanent(_))), "{delivery:?}");
    assert!(rx.try_recv().is_err(), "record never ran");
    assert!(sink.received().is_empty());
}

/// The final `.` follows the body at once: with Nagle's algorithm on, it would wait for the
/// relay's delayed acknowledgement of the body, about 40 ms a message (800 ms for these 20).
#[tokio::test]
async fn twenty_messages_do_not_wait_for_delayed_acknowledgements() {
    let sink = SmtpSink::start();
    let settings = smtp_settings(sink.url());
    let mailer = Mailer::from_settings(&settings).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..20 {
        mailer.send(&messages::verify_email(&settings, "c@example.org", LINK, 60)).await.unwrap();
    }
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_millis(600), "20 messages took {took:?}");
    assert_eq!(sink.received().len(), 20);
}
