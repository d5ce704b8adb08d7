//! Test helpers: an in-process SMTP sink (mailin-embedded) on a free loopback port, and a
//! parser for what the transports wrote.

#![allow(dead_code, reason = "each test binary uses a different subset of the helpers")]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a broken fixture should fail the test loudly"
)]

use std::io;
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};

use mail_parser::{MessageParser, MimeHeaders, PartType};
use mailin_embedded::response::{NO_MAILBOX, OK};
use mailin_embedded::{Handler, Response, Server, SslConfig};

/// One message as the sink received it: the envelope (RFC 5321 MAIL FROM / RCPT TO) and the
/// DATA.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

/// The sink's rules for RCPT TO: `refused@…` gets 550 (RFC 5321 §4.2.2, mailbox unavailable),
/// `busy@…` gets 450 (mailbox busy, try later); everything else 250.
#[derive(Clone)]
struct Sink {
    store: Arc<Mutex<Vec<Received>>>,
    current: Received,
}

impl Handler for Sink {
    fn rcpt(&mut self, to: &str) -> Response {
        let address = to.trim_matches(['<', '>']);
        if address.starts_with("refused@") {
            NO_MAILBOX
        } else if address.starts_with("busy@") {
            Response::custom(450, "Mailbox busy, try later".to_owned())
        } else {
            OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _8bit: bool, to: &[String]) -> Response {
        self.current = Received { mail_from: from.to_owned(), rcpt_to: to.to_vec(), data: Vec::new() };
        OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = std::mem::take(&mut self.current);
        self.store.lock().unwrap().push(message);
        OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        OK
    }
}

/// A running sink. Its thread serves until the test binary exits.
pub struct SmtpSink {
    pub port: u16,
    store: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let store = Arc::new(Mutex::new(Vec::new()));
        let handler = Sink { store: Arc::clone(&store), current: Received::default() };
        let mut server = Server::new(handler);
        server
            .with_name("sink.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(e) = server.serve() {
                eprintln!("SMTP sink stopped: {e}");
            }
        });
        Self { port, store }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.store.lock().unwrap().clone()
    }

    /// How many messages arrived, readable from anywhere (a closure on another thread).
    pub fn counter(&self) -> impl Fn() -> usize + Send + 'static {
        let store = Arc::clone(&self.store);
        move || store.lock().unwrap().len()
    }
}

/// A loopback port with nothing listening: bound, then released.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What a reader of the message sees, parsed by an independent MIME parser.
#[derive(Debug)]
pub struct Parsed {
    pub subject: String,
    pub from_name: String,
    pub from_address: String,
    pub to_address: String,
    pub message_id: Option<String>,
    pub content_type: String,
    pub text: String,
    pub html: String,
}

/// Parses an RFC 5322 message that must be `multipart/alternative` with exactly one
/// `text/plain` and one `text/html` part.
pub fn parse(raw: &[u8]) -> Parsed {
    let message = MessageParser::default().parse(raw).expect("a parseable message");
    let root = message.root_part();
    let ct = root.content_type().expect("a Content-Type");
    let content_type = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
    let mut text = Vec::new();
    let mut html = Vec::new();
    for part in &message.parts {
        match &part.body {
            PartType::Text(t) => text.push(t.to_string()),
            PartType::Html(h) => html.push(h.to_string()),
            _ => {}
        }
    }
    assert_eq!((text.len(), html.len()), (1, 1), "one text and one HTML part");
    let from = message.from().and_then(|a| a.first()).expect("a From");
    Parsed {
        subject: message.subject().unwrap_or_default().to_owned(),
        from_name: from.name().unwrap_or_default().to_owned(),
        from_address: from.address().unwrap_or_default().to_owned(),
        to_address: message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned(),
        message_id: message.message_id().map(str::to_owned),
        content_type,
        text: text.remove(0),
        html: html.remove(0),
    }
}
