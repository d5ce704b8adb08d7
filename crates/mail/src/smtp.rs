//! SMTP delivery that records a message as sent *before* the relay can accept it, so that a
//! crash at any point leaves the outbox telling the truth.
//!
//! A relay accepts a message when it reads the final `.` of DATA (RFC 5321 §4.1.1.4), and a
//! relay whose client disappears before that `.` must discard the transaction (RFC 5321 §3.8:
//! "as if a RSET command had been received"). So the session writes the body, runs `record`
//! (the outbox's "sent" commit), and only then writes the `.`:
//!
//! ```text
//!   connect, EHLO, [STARTTLS], [AUTH], MAIL, RCPT, DATA, body ──▶ record ──▶ "." ──▶ 250
//!   crash here: nothing delivered, the row     │   crash here: delivered once, recorded
//!   is still `sending` and is sent again       └─ crash between: recorded, never delivered
//! ```
//!
//! The only window left opens when the database commits and closes when the five bytes of
//! `\r\n.\r\n` leave the process — the commit's reply and one `write`: microseconds on an idle
//! machine, milliseconds on a saturated one. A crash there loses the message, never duplicates
//! it (docs/testing.md, "Crash safety").
//! The session runs on a blocking thread with a runtime of its own, because `record` is a
//! synchronous database commit made from inside lettre's write of the message.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::MailError;

/// The whole session, connect to the final reply, within which it must end; the outbox lease
/// (`outbox::LEASE_SECS`) is longer, so no other node claims a message still being sent.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// Where `record` stands, shared between lettre's write of the message and the session.
const NOT_YET: u8 = 0;
const RECORDED: u8 = 1;
const NOT_RECORDED: u8 = 2;

/// What became of a message handed to [`Relay::deliver`].
#[derive(Debug)]
pub enum Delivery {
    /// Recorded, then accepted by the relay.
    Delivered,
    /// Not delivered: refused by the relay, or the connection failed before the hand-over. If
    /// `record` had run, the caller undoes it (retry or fail the message).
    Failed(MailError),
    /// Recorded and handed over, but the relay's answer never came: it may or may not hold the
    /// message (RFC 1047). Not retried: a retry could deliver it twice.
    InDoubt(MailError),
    /// `record` failed, and the hand-over could not be stopped any more (lettre writes the body
    /// and the final `.` in one call). `accepted`: the relay said so, and the caller records it
    /// again; else nobody knows, and the caller records it as in doubt.
    Unrecorded { accepted: bool },
}

/// An SMTP relay from `mail.smtp_url`, with lettre's URL rules: `smtp://host[:25]`,
/// `smtp://host[:587]?tls=required|opportunistic` (STARTTLS), `smtps://host[:465]`; a user and
/// password in the URL are the AUTH credentials; a path is the EHLO name.
pub struct Relay {
    host: String,
    port: u16,
    tls: Tls,
    hello: ClientId,
    credentials: Option<Credentials>,
    timeout: Duration,
}

impl Relay {
    pub fn from_url(url: &str, timeout: Duration) -> Result<Relay, MailError> {
        let bad = |why: &str| MailError::settings("mail.smtp_url", why.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| bad("not a URL"))?;
        let host = parsed.host_str().ok_or_else(|| bad("no host"))?.to_owned();
        let tls_query = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let params = || TlsParameters::new(host.clone()).map_err(|e| bad(&e.to_string()));
        let (tls, default_port) = match (parsed.scheme(), tls_query.as_deref()) {
            ("smtp", None) => (Tls::None, 25),
            ("smtp", Some("required")) => (Tls::Required(params()?), 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic(params()?), 587),
            ("smtps", _) => (Tls::Wrapper(params()?), 465),
            _ => return Err(bad("use smtp://, smtp://…?tls=required|opportunistic or smtps://")),
        };
        let hello = match parsed.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad("the user or password is not UTF-8"))
        };
        let credentials = match parsed.password() {
            Some(password) => Some(Credentials::new(decode(parsed.username())?, decode(password)?)),
            None => None,
        };
        Ok(Relay { port: parsed.port().unwrap_or(default_port), host, tls, hello, credentials, timeout })
    }

    /// Delivers `email` to `envelope`'s recipients, running `record` after the body and before
    /// the final `.` (see the module doc). `record` returns whether it committed.
    pub async fn deliver<R>(self: &Arc<Self>, envelope: Envelope, email: Vec<u8>, record: R) -> Delivery
    where
        R: FnOnce() -> bool + Send + 'static,
    {
        let relay = Arc::clone(self);
        let session = tokio::task::spawn_blocking(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => return Delivery::Failed(MailError::Transient(format!("no runtime for SMTP: {e}"))),
            };
            let recorded = Arc::new(AtomicU8::new(NOT_YET));
            let timed =
                tokio::time::timeout(SESSION_TIMEOUT, relay.session(&envelope, &email, record, &recorded));
            let silent = || MailError::Transient("no answer to the end of the message".into());
            match (runtime.block_on(timed), recorded.load(Ordering::SeqCst)) {
                (Ok(delivery), _) => delivery,
                (Err(_), RECORDED) => Delivery::InDoubt(silent()),
                (Err(_), NOT_RECORDED) => Delivery::Unrecorded { accepted: false },
                (Err(_), _) => Delivery::Failed(MailError::Transient("the SMTP session timed out".into())),
            }
        });
        session.await.unwrap_or_else(|e| Delivery::Failed(MailError::Transient(format!("SMTP task: {e}"))))
    }

    async fn session<R>(
        &self,
        envelope: &Envelope,
        email: &[u8],
        record: R,
        recorded: &Arc<AtomicU8>,
    ) -> Delivery
    where
        R: FnOnce() -> bool,
    {
        let mut conn = match self.connect().await {
            Ok(conn) => conn,
            Err(e) => return Delivery::Failed(e),
        };
        if let Err(e) = Self::start_transaction(&mut conn, envelope, email).await {
            conn.abort().await;
            return Delivery::Failed(e);
        }
        let parts =
            RecordBeforeDot { body: Some(email), record: Some(record), recorded: Arc::clone(recorded) };
        let answer = conn.message_iter(parts).await;
        let delivery = match (answer, recorded.load(Ordering::SeqCst)) {
            (Ok(_), RECORDED) => Delivery::Delivered,
            (Ok(_), _) => Delivery::Unrecorded { accepted: true },
            // The relay answered: it refused the message.
            (Err(e), _) if e.status().is_some() => Delivery::Failed(e.into()),
            (Err(e), RECORDED) => Delivery::InDoubt(e.into()),
            (Err(_), NOT_RECORDED) => Delivery::Unrecorded { accepted: false },
            // The connection broke before the hand-over.
            (Err(e), _) => Delivery::Failed(e.into()),
        };
        let _ = conn.quit().await;
        delivery
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, MailError> {
        let mut conn = match &self.tls {
            // Implicit TLS: lettre opens the socket and wraps it before the greeting.
            Tls::Wrapper(params) => {
                let address = (self.host.as_str(), self.port);
                let wrapper = Some(params.clone());
                AsyncSmtpConnection::connect_tokio1(address, Some(self.timeout), &self.hello, wrapper, None)
                    .await?
            }
            // Our own socket, for TCP_NODELAY: the final `.` is a 5-byte write right after the
            // body, which Nagle's algorithm would hold until the relay acknowledges the body —
            // and a relay that waits for the `.` before answering delays that acknowledgement
            // (about 40 ms per message on Linux).
            _ => {
                let unreachable = |e: &dyn std::fmt::Display| {
                    MailError::Transient(format!("cannot connect to {}:{}: {e}", self.host, self.port))
                };
                let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
                let stream = tokio::time::timeout(self.timeout, connect)
                    .await
                    .map_err(|e| unreachable(&e))?
                    .map_err(|e| unreachable(&e))?;
                stream.set_nodelay(true).map_err(|e| unreachable(&e))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello).await?
            }
        };
        match &self.tls {
            Tls::Opportunistic(params) if conn.can_starttls() => {
                conn.starttls(params.clone(), &self.hello).await?
            }
            Tls::Required(params) => conn.starttls(params.clone(), &self.hello).await?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    /// MAIL, RCPT and DATA, with the SMTPUTF8 (RFC 6531) and 8BITMIME (RFC 6152) parameters the
    /// message needs, as lettre's own `send` does.
    async fn start_transaction(
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        email: &[u8],
    ) -> Result<(), MailError> {
        let mut params = Vec::new();
        let mut addresses = envelope.from().into_iter().chain(envelope.to());
        if addresses.any(|a| !AsRef::<str>::as_ref(a).is_ascii()) {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(MailError::Permanent("the relay does not take non-ASCII addresses".into()));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !email.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(MailError::Permanent("the relay does not take 8-bit messages".into()));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        conn.command(Mail::new(envelope.from().cloned(), params)).await?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), Vec::new())).await?;
        }
        conn.command(Data).await?;
        Ok(())
    }
}

/// The message as lettre's `message_iter` reads it: the body, then — when lettre asks for more
/// before writing the final `.` — `record`, then the end.
struct RecordBeforeDot<'a, R> {
    body: Option<&'a [u8]>,
    record: Option<R>,
    recorded: Arc<AtomicU8>,
}

impl<'a, R: FnOnce() -> bool> Iterator for RecordBeforeDot<'a, R> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(body) = self.body.take() {
            return Some(body);
        }
        if let Some(record) = self.record.take() {
            self.recorded.store(if record() { RECORDED } else { NOT_RECORDED }, Ordering::SeqCst);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, u16, &'static str, bool) {
        let r = Relay::from_url(url, Duration::from_secs(1)).unwrap();
        let tls = match r.tls {
            Tls::None => "none",
            Tls::Opportunistic(_) => "opportunistic",
            Tls::Required(_) => "required",
            Tls::Wrapper(_) => "wrapper",
        };
        (r.host, r.port, tls, r.credentials.is_some())
    }

    #[test]
    fn urls_follow_lettres_rules() {
        assert_eq!(parts("smtp://127.0.0.1:2525"), ("127.0.0.1".into(), 2525, "none", false));
        assert_eq!(parts("smtp://relay.example.org"), ("relay.example.org".into(), 25, "none", false));
        assert_eq!(
            parts("smtp://u:p%40ss@relay.example.org?tls=required"),
            ("relay.example.org".into(), 587, "required", true)
        );
        assert_eq!(parts("smtp://relay.example.org?tls=opportunistic").2, "opportunistic");
        assert_eq!(parts("smtps://relay.example.org"), ("relay.example.org".into(), 465, "wrapper", false));
        for bad in ["http://relay", "smtp://relay?tls=sometimes", "not a url"] {
            assert!(Relay::from_url(bad, Duration::from_secs(1)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_record_runs_after_the_body_and_before_the_end() {
        let order = std::cell::RefCell::new(Vec::new());
        let recorded = Arc::new(AtomicU8::new(NOT_YET));
        let mut parts = RecordBeforeDot {
            body: Some(b"body".as_slice()),
            record: Some(|| {
                order.borrow_mut().push("record");
                true
            }),
            recorded: Arc::clone(&recorded),
        };
        assert_eq!(parts.next(), Some(b"body".as_slice()));
        assert_eq!(recorded.load(Ordering::SeqCst), NOT_YET, "not before the body is written");
        assert_eq!(parts.next(), None);
        assert_eq!(recorded.load(Ordering::SeqCst), RECORDED);
        assert_eq!(parts.next(), None, "once");
        assert_eq!(*order.borrow(), ["record"]);
    }
}
