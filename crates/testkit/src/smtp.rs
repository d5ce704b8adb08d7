//! An SMTP sink: a real SMTP server on a free loopback port, in-process, that keeps every message
//! it receives for the test to inspect.
//!
//! It is a small tokio server of its own rather than mailin-embedded, whose `serve()` never
//! returns (no way to stop it on drop). It runs on its own thread with its own runtime, so it
//! serves whether the test is sync, `#[tokio::test]` or `#[tokio::test(flavor = "multi_thread")]`.
//! It speaks the part of RFC 5321 a client without TLS or AUTH needs (lettre 0.11 among them):
//! greeting 220; EHLO (advertising 8BITMIME and SMTPUTF8), HELO; MAIL FROM and RCPT TO with or
//! without parameters after the address; DATA with dot-unstuffing; RSET, NOOP, QUIT.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mail_parser::{Address, MessageParser, PartType};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use url::Url;

const POLL: Duration = Duration::from_millis(50);

/// A running SMTP sink on `127.0.0.1:<free port>`; stopped (port closed, connections dropped)
/// on drop.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    // Dropping the sender stops the server; then `thread` is joined.
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// One message as the sink received it: the envelope (RFC 5321 `MAIL FROM` / `RCPT TO`, without
/// angle brackets) and the message parsed with mail-parser (transfer encodings decoded).
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// `MAIL FROM` address; empty for the null reverse-path `<>`.
    pub envelope_from: String,
    /// `RCPT TO` addresses, as the client spelled them.
    pub envelope_to: Vec<String>,
    /// The `From` header as a reader sees it: `Name <address>`, or the bare address.
    pub from: String,
    /// The `To` header, formatted like `from`; several addresses joined with `, `.
    pub to: String,
    /// The decoded `Subject`.
    pub subject: String,
    /// The first `text/plain` body part, decoded; empty if there is none.
    pub text: String,
    /// The first `text/html` body part, decoded; empty if there is none.
    pub html: String,
    /// The message as received after DATA (dot-unstuffed, CRLF line ends), lossily UTF-8.
    pub raw: String,
}

struct Shared {
    inbox: Mutex<Inbox>,
    failing: AtomicBool,
}

#[derive(Default)]
struct Inbox {
    mails: Vec<ReceivedMail>,
    /// (index in `mails`, lowercased recipient) already returned by `take` or `wait_for`.
    taken: HashSet<(usize, String)>,
}

impl Shared {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and starts serving on a thread of its own. Accepts connections as soon
    /// as it returns.
    pub fn start() -> SmtpSink {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind the SMTP sink on 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("no local address for the SMTP sink's socket: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("cannot make the SMTP sink's socket non-blocking: {e}"));
        let shared =
            Arc::new(Shared { inbox: Mutex::new(Inbox::default()), failing: AtomicBool::new(false) });
        let (stop, stopped) = oneshot::channel();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("smtp-sink-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("cannot build a tokio runtime for the SMTP sink: {e}"));
                runtime.block_on(serve(listener, server_shared, stopped));
            })
            .unwrap_or_else(|e| panic!("cannot spawn the SMTP sink's thread: {e}"));
        SmtpSink { addr, shared, stop: Some(stop), thread: Some(thread) }
    }

    /// `smtp://127.0.0.1:PORT`, for `GATEHOUSE_MAIL__SMTP_URL` (plain SMTP, no TLS, no AUTH).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Everything received so far, in order of arrival (including what was taken).
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.inbox().mails.clone()
    }

    /// While `on`, every `RCPT TO` is refused with `451` (temporary failure), and so is a DATA
    /// that was already under way when it was switched on; nothing is stored. Off again: mail is
    /// accepted as before.
    pub fn set_failing(&self, on: bool) {
        self.shared.failing.store(on, Ordering::SeqCst);
    }

    /// The first message to `to` (an envelope recipient, case-insensitive) not yet returned by
    /// `take` or [`SmtpSink::wait_for`] for that address, marked as returned; `None` if there is
    /// none yet.
    pub fn take(&self, to: &str) -> Option<ReceivedMail> {
        let key = normalise(to);
        let mut inbox = self.shared.inbox();
        let index = untaken_for(&inbox, &key)?;
        inbox.taken.insert((index, key));
        Some(inbox.mails[index].clone())
    }

    /// Waits (polling every 50 ms) until a message to `to` arrives that was not returned by an
    /// earlier `wait_for` or [`SmtpSink::take`] for that address, and returns it. Panics after
    /// `timeout`, listing what did arrive.
    pub async fn wait_for(&self, to: &str, timeout: Duration) -> ReceivedMail {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(mail) = self.take(to) {
                return mail;
            }
            if Instant::now() >= deadline {
                panic!("no new mail to {to} within {timeout:?}; the SMTP sink received {}", self.summary());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asserts that no message to `to` that was not yet taken is there or arrives within
    /// `window` (for "no mail is sent to unknown addresses"); panics as soon as one does.
    pub async fn assert_none_for(&self, to: &str, window: Duration) {
        let key = normalise(to);
        let deadline = Instant::now() + window;
        loop {
            let found = {
                let inbox = self.shared.inbox();
                untaken_for(&inbox, &key).map(|index| describe(&inbox.mails[index]))
            };
            if let Some(mail) = found {
                panic!("expected no mail to {to} within {window:?}, but the SMTP sink received {mail}");
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }

    fn summary(&self) -> String {
        let inbox = self.shared.inbox();
        if inbox.mails.is_empty() {
            return "nothing".to_owned();
        }
        let list: Vec<String> = inbox
            .mails
            .iter()
            .enumerate()
            .map(|(index, mail)| {
                let taken: Vec<&str> = inbox
                    .taken
                    .iter()
                    .filter(|(i, _)| *i == index)
                    .map(|(_, address)| address.as_str())
                    .collect();
                if taken.is_empty() {
                    describe(mail)
                } else {
                    format!("{} (already taken for {})", describe(mail), taken.join(", "))
                }
            })
            .collect();
        format!("{}: {}", list.len(), list.join("; "))
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl ReceivedMail {
    /// The first http(s) URL in the text part (then the HTML part) whose path contains
    /// `path_fragment` (e.g. `/password/reset`), with HTML entities decoded. Panics, showing the
    /// text part, if there is none.
    pub fn link(&self, path_fragment: &str) -> String {
        [&self.text, &self.html].into_iter().find_map(|body| find_link(body, path_fragment)).unwrap_or_else(
            || {
                panic!(
                    "no http(s) link with {path_fragment:?} in its path in {}; text part: {:?}",
                    describe(self),
                    self.text
                )
            },
        )
    }

    /// The first run of exactly six ASCII digits in the text part (a typed sign-in code).
    /// Panics, showing the text part, if there is none.
    pub fn six_digit_code(&self) -> String {
        let mut runs = self.text.split(|c: char| !c.is_ascii_digit());
        runs.find(|run| run.len() == 6)
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no six-digit code in {}; text part: {:?}", describe(self), self.text))
    }

    fn parse(envelope_from: String, envelope_to: Vec<String>, raw: &[u8]) -> ReceivedMail {
        let mut mail = ReceivedMail {
            envelope_from,
            envelope_to,
            from: String::new(),
            to: String::new(),
            subject: String::new(),
            text: String::new(),
            html: String::new(),
            raw: String::from_utf8_lossy(raw).into_owned(),
        };
        let Some(message) = MessageParser::default().parse(raw) else {
            return mail;
        };
        let body = |ids: &[u32], html: bool| {
            ids.iter().find_map(|&id| match &message.parts.get(id as usize)?.body {
                PartType::Text(text) if !html => Some(text.to_string()),
                PartType::Html(text) if html => Some(text.to_string()),
                _ => None,
            })
        };
        mail.from = addresses(message.from());
        mail.to = addresses(message.to());
        mail.subject = message.subject().unwrap_or_default().to_owned();
        mail.text = body(&message.text_body, false).unwrap_or_default();
        mail.html = body(&message.html_body, true).unwrap_or_default();
        mail
    }
}

fn addresses(address: Option<&Address<'_>>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    let list: Vec<String> = address
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .collect();
    list.join(", ")
}

/// `to [a@b] "Subject"`, for panic messages.
fn describe(mail: &ReceivedMail) -> String {
    format!("mail to {:?} {:?}", mail.envelope_to, mail.subject)
}

/// A recipient as compared: without surrounding space or angle brackets, lowercase.
fn normalise(address: &str) -> String {
    address.trim().trim_start_matches('<').trim_end_matches('>').to_lowercase()
}

fn untaken_for(inbox: &Inbox, key: &str) -> Option<usize> {
    (0..inbox.mails.len()).find(|&index| {
        inbox.mails[index].envelope_to.iter().any(|rcpt| normalise(rcpt) == key)
            && !inbox.taken.contains(&(index, key.to_owned()))
    })
}

/// The first `http://` or `https://` URL in `body` whose path contains `fragment`.
fn find_link(body: &str, fragment: &str) -> Option<String> {
    let mut rest = body;
    while let Some(start) = rest.find("http") {
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
            .unwrap_or(candidate.len());
        rest = &candidate[end.max(4)..];
        if !(candidate.starts_with("http://") || candidate.starts_with("https://")) {
            continue;
        }
        // Sentence punctuation after a URL in prose is not part of it (trimmed after decoding,
        // so that the `;` of a trailing entity survives).
        let decoded = decode_entities(&candidate[..end]);
        let link = decoded.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
        if let Ok(url) = Url::parse(link)
            && url.path().contains(fragment)
        {
            return Some(link.to_owned());
        }
    }
    None
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric references; leaves anything
/// else as it is.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let c = match &rest[1..semi] {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                name => {
                    let code = match name.strip_prefix('#')? {
                        hex if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok()?,
                        dec => dec.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("SMTP sink: cannot register its socket with tokio: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(session(stream, Arc::clone(&shared)));
                }
                Err(e) => {
                    eprintln!("SMTP sink: accept failed: {e}");
                    tokio::time::sleep(POLL).await;
                }
            },
        }
    }
}

/// One SMTP connection. I/O errors (the client hung up) end it silently.
async fn session(stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 127.0.0.1 ESMTP gatehouse-testkit sink\r\n").await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, arg) = line.split_once(' ').unwrap_or((line, ""));
        let arg = arg.trim();
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                (mail_from, rcpt_to) = (None, Vec::new());
                format!("250-127.0.0.1 greets {arg}\r\n250-8BITMIME\r\n250 SMTPUTF8")
            }
            "HELO" => {
                (mail_from, rcpt_to) = (None, Vec::new());
                "250 127.0.0.1".to_owned()
            }
            "MAIL" => match path_after(arg, "FROM:") {
                _ if mail_from.is_some() => "503 5.5.1 MAIL already given".to_owned(),
                Some(from) => {
                    mail_from = Some(from);
                    "250 2.1.0 OK".to_owned()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".to_owned(),
            },
            "RCPT" => match path_after(arg, "TO:") {
                _ if mail_from.is_none() => "503 5.5.1 MAIL first".to_owned(),
                Some(to) if !to.is_empty() => {
                    if shared.failing.load(Ordering::SeqCst) {
                        "451 4.3.0 Temporary failure (SmtpSink::set_failing)".to_owned()
                    } else {
                        rcpt_to.push(to);
                        "250 2.1.5 OK".to_owned()
                    }
                }
                _ => "501 5.5.4 Syntax: RCPT TO:<address>".to_owned(),
            },
            "DATA" if rcpt_to.is_empty() => "503 5.5.1 RCPT first".to_owned(),
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let data = read_data(&mut read).await?;
                let from = mail_from.take().unwrap_or_default();
                let to = std::mem::take(&mut rcpt_to);
                if shared.failing.load(Ordering::SeqCst) {
                    "451 4.3.0 Temporary failure (SmtpSink::set_failing)".to_owned()
                } else {
                    let mail = ReceivedMail::parse(from, to, &data);
                    shared.inbox().mails.push(mail);
                    "250 2.0.0 OK: queued".to_owned()
                }
            }
            "RSET" => {
                (mail_from, rcpt_to) = (None, Vec::new());
                "250 2.0.0 OK".to_owned()
            }
            "NOOP" => "250 2.0.0 OK".to_owned(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not implemented".to_owned(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// The address in `FROM:<a@b> PARAM=…` (prefix case-insensitive, a space after the colon and
/// a missing pair of brackets tolerated), without the brackets; parameters are ignored.
fn path_after(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => &inner[..inner.find('>')?],
        None => rest.split_whitespace().next()?,
    };
    Some(path.to_owned())
}

/// The message after DATA up to the line `.`, dot-unstuffed (RFC 5321 §4.5.2).
async fn read_data(read: &mut BufReader<impl AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match line.as_slice() {
            b".\r\n" | b".\n" => return Ok(data),
            [b'.', stuffed @ ..] => data.extend_from_slice(stuffed),
            _ => data.extend_from_slice(&line),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader as StdBufReader, Write};
    use std::net::TcpStream as StdTcpStream;

    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{MultiPart, SinglePart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    fn transport(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(&sink.url()).unwrap().build()
    }

    fn simple(to: &str, subject: &str) -> Message {
        Message::builder()
            .from("Gatehouse <no-reply@localhost>".parse().unwrap())
            .to(to.parse().unwrap())
            .subject(subject)
            .body(format!("{subject}\n"))
            .unwrap()
    }

    fn port(sink: &SmtpSink) -> u16 {
        sink.addr.port()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn lettre_multipart_arrives_with_envelope_headers_and_both_parts() {
        let sink = SmtpSink::start();
        assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", port(&sink)));
        let message = Message::builder()
            .from("Community Access <no-reply@localhost>".parse().unwrap())
            .to("Betty Rubble <Betty@Example.org>".parse().unwrap())
            .subject("Réinitialiser le mot de passe")
            .multipart(MultiPart::alternative_plain_html(
                "Grüße, Betty.\nhttps://id.example.org/verify?t=1\n".to_owned(),
                "<p>Grüße, <b>Betty</b>.</p>".to_owned(),
            ))
            .unwrap();

        transport(&sink).send(message).await.unwrap();
        let mail = sink.wait_for("betty@example.org", WAIT).await;

        assert_eq!(mail.envelope_from, "no-reply@localhost");
        assert_eq!(mail.envelope_to, ["Betty@Example.org"]);
        assert_eq!(mail.from, "Community Access <no-reply@localhost>");
        assert_eq!(mail.to, "Betty Rubble <Betty@Example.org>");
        assert_eq!(mail.subject, "Réinitialiser le mot de passe");
        assert_eq!(mail.text.replace("\r\n", "\n"), "Grüße, Betty.\nhttps://id.example.org/verify?t=1\n");
        assert_eq!(mail.html, "<p>Grüße, <b>Betty</b>.</p>");
        assert!(mail.raw.contains("multipart/alternative"), "{}", mail.raw);
        assert_eq!(sink.messages().len(), 1);
        assert_eq!(sink.messages()[0].subject, mail.subject);
    }

    #[tokio::test]
    async fn wait_for_returns_each_message_once_in_order() {
        let sink = SmtpSink::start();
        let mailer = transport(&sink);
        mailer.send(simple("a@example.org", "first")).await.unwrap();
        mailer.send(simple("b@example.org", "other")).await.unwrap();
        mailer.send(simple("A@example.org", "second")).await.unwrap();

        assert_eq!(sink.wait_for("a@example.org", WAIT).await.subject, "first");
        assert_eq!(sink.wait_for("<A@EXAMPLE.ORG>", WAIT).await.subject, "second");
        assert!(sink.take("a@example.org").is_none());
        assert_eq!(sink.take("b@example.org").unwrap().subject, "other");
        assert_eq!(sink.messages().len(), 3);
    }

    #[tokio::test]
    async fn wait_for_sees_a_message_that_arrives_later() {
        let sink = SmtpSink::start();
        let mailer = transport(&sink);
        let send = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            mailer.send(simple("late@example.org", "late")).await.unwrap();
        };
        let (mail, ()) = tokio::join!(sink.wait_for("late@example.org", WAIT), send);
        assert_eq!(mail.subject, "late");
    }

    #[tokio::test]
    #[should_panic(expected = "no new mail to b@example.org within 300ms; the SMTP sink received 1: \
                    mail to [\"a@example.org\"] \"for a\"")]
    async fn wait_for_panics_listing_what_arrived() {
        let sink = SmtpSink::start();
        transport(&sink).send(simple("a@example.org", "for a")).await.unwrap();
        sink.wait_for("b@example.org", Duration::from_millis(300)).await;
    }

    #[tokio::test]
    #[should_panic(expected = "(already taken for a@example.org)")]
    async fn wait_for_does_not_return_a_taken_message_twice() {
        let sink = SmtpSink::start();
        transport(&sink).send(simple("a@example.org", "once")).await.unwrap();
        sink.wait_for("a@example.org", WAIT).await;
        sink.wait_for("a@example.org", Duration::from_millis(200)).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn link_and_code_survive_quoted_printable_and_base64() {
        let sink = SmtpSink::start();
        let url = format!(
            "https://id.example.org/password/reset?token={}&next=%2Fauthorize%3Fclient_id%3Dportal",
            "Zm9vYmFyYmF6".repeat(8)
        );
        let text = format!(
            "Hello Betty,\n\nOrder 1234567 is unrelated; see https://id.example.org/help first.\n\
             Reset your password: {url}.\nOr type the code 482913 (valid for 10 minutes).\n"
        );
        let html = format!(
            "<p style=\"color:#123456\">Reset: <a href=\"{}\">reset</a></p>",
            url.replace('&', "&amp;")
        );
        let message = Message::builder()
            .from("no-reply@localhost".parse().unwrap())
            .to("betty@example.org".parse().unwrap())
            .subject("Reset your password")
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .header(ContentTransferEncoding::QuotedPrintable)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .header(ContentTransferEncoding::Base64)
                            .body(html.clone()),
                    ),
            )
            .unwrap();

        transport(&sink).send(message).await.unwrap();
        let mail = sink.wait_for("betty@example.org", WAIT).await;

        // On the wire the URL is split by soft line breaks and its `=` escaped.
        assert!(mail.raw.contains("Content-Transfer-Encoding: quoted-printable"), "{}", mail.raw);
        assert!(mail.raw.contains("=\r\n"), "{}", mail.raw);
        assert!(!mail.raw.contains(&url), "{}", mail.raw);
        assert!(mail.raw.contains("Content-Transfer-Encoding: base64"), "{}", mail.raw);
        assert_eq!(mail.html, html);
        assert_eq!(mail.link("/password/reset"), url);
        assert_eq!(mail.link("/help"), "https://id.example.org/help");
        assert_eq!(mail.six_digit_code(), "482913");
        // The HTML part alone yields the same link, entities decoded.
        let html_only = ReceivedMail { text: String::new(), ..mail };
        assert_eq!(html_only.link("/password/reset"), url);
    }

    fn with_text(text: &str) -> ReceivedMail {
        ReceivedMail {
            envelope_from: String::new(),
            envelope_to: vec!["x@example.org".to_owned()],
            from: String::new(),
            to: String::new(),
            subject: "s".to_owned(),
            text: text.to_owned(),
            html: String::new(),
            raw: String::new(),
        }
    }

    #[test]
    fn link_picks_the_matching_url_and_decodes_entities() {
        let mail = with_text(
            "See <http://localhost:8080/help>, then (https://id.example.org/reset?a=1&amp;b=&#x32;&#51;).\n\
             Not this: https://id.example.org/reset-other?x=1",
        );
        assert_eq!(mail.link("/help"), "http://localhost:8080/help");
        assert_eq!(mail.link("/reset"), "https://id.example.org/reset?a=1&b=23");
        assert_eq!(mail.link("/reset-other"), "https://id.example.org/reset-other?x=1");
        // Only the path counts, not the query.
        assert_eq!(
            with_text("https://a.example/x?next=/reset https://a.example/reset").link("/reset"),
            "https://a.example/reset"
        );
    }

    #[test]
    #[should_panic(expected = "no http(s) link with \"/reset\"")]
    fn link_panics_without_a_match() {
        with_text("https://id.example.org/help and httpx://nope/reset").link("/reset");
    }

    #[test]
    fn six_digit_code_skips_longer_and_shorter_runs() {
        assert_eq!(with_text("Order 1234567, ref 12345, code: 004213.").six_digit_code(), "004213");
        assert_eq!(with_text("654321").six_digit_code(), "654321");
    }

    #[test]
    #[should_panic(expected = "no six-digit code")]
    fn six_digit_code_panics_without_one() {
        with_text("Order 1234567, ref 12345").six_digit_code();
    }

    #[test]
    fn decode_entities_leaves_unknown_ones() {
        assert_eq!(decode_entities("a&amp;b&lt;&gt;&quot;&apos;&#65;&#x42;"), "a&b<>\"'AB");
        assert_eq!(decode_entities("a&b=1&nbsp;&#xZZ;&"), "a&b=1&nbsp;&#xZZ;&");
    }

    #[tokio::test]
    async fn assert_none_for_passes_when_nothing_came_for_that_address() {
        let sink = SmtpSink::start();
        transport(&sink).send(simple("known@example.org", "hi")).await.unwrap();
        let started = Instant::now();
        sink.assert_none_for("unknown@example.org", Duration::from_millis(300)).await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        // A taken message does not count.
        sink.wait_for("known@example.org", WAIT).await;
        sink.assert_none_for("known@example.org", Duration::from_millis(100)).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    #[should_panic(
        expected = "expected no mail to unknown@example.org within 2s, but the SMTP sink received"
    )]
    async fn assert_none_for_fails_when_mail_arrives_within_the_window() {
        let sink = SmtpSink::start();
        let mailer = transport(&sink);
        let send = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            mailer.send(simple("Unknown@example.org", "leak")).await.unwrap();
        };
        tokio::join!(sink.assert_none_for("unknown@example.org", Duration::from_secs(2)), send);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn set_failing_gives_lettre_a_transient_error_until_switched_off() {
        let sink = SmtpSink::start();
        let mailer = transport(&sink);

        sink.set_failing(true);
        let err = mailer.send(simple("betty@example.org", "retry me")).await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(err.to_string().contains("451"), "{err}");
        assert!(sink.messages().is_empty());

        sink.set_failing(false);
        mailer.send(simple("betty@example.org", "retry me")).await.unwrap();
        assert_eq!(sink.wait_for("betty@example.org", WAIT).await.subject, "retry me");
        assert_eq!(sink.messages().len(), 1);
    }

    /// Sends `command` (unless empty) and returns the whole reply, continuation lines included.
    fn exchange(stream: &mut StdTcpStream, reader: &mut StdBufReader<StdTcpStream>, command: &str) -> String {
        if !command.is_empty() {
            stream.write_all(format!("{command}\r\n").as_bytes()).unwrap();
        }
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap() > 0, "connection closed after {command:?}");
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    #[test]
    fn raw_session_params_sequence_dot_stuffing_and_failing_data() {
        let sink = SmtpSink::start();
        let mut stream = StdTcpStream::connect(("127.0.0.1", port(&sink))).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut reader = StdBufReader::new(stream.try_clone().unwrap());
        let mut say = |command: &str| exchange(&mut stream, &mut reader, command);

        assert!(say("").starts_with("220 "));
        let ehlo = say("EHLO client.test");
        assert!(ehlo.starts_with("250-") && ehlo.contains("8BITMIME") && ehlo.contains("\r\n250 SMTPUTF8"));
        assert!(say("RCPT TO:<c@d.test>").starts_with("503 "));
        assert!(say("MAIL FROM:<a@b.test> BODY=8BITMIME SMTPUTF8").starts_with("250 "));
        assert!(say("MAIL FROM:<a@b.test>").starts_with("503 "));
        assert!(say("RCPT TO:<c@d.test>").starts_with("250 "));
        assert!(say("RSET").starts_with("250 "));
        assert!(say("DATA").starts_with("503 "));
        assert!(say("NOOP").starts_with("250 "));
        assert!(say("AUTH PLAIN AGFAYg==").starts_with("502 "));
        assert!(say("mail from: <a@b.test>").starts_with("250 "));
        assert!(say("RCPT TO:<>").starts_with("501 "));
        assert!(say("RCPT TO:<C@D.test> NOTIFY=NEVER").starts_with("250 "));
        assert!(say("DATA").starts_with("354 "));
        assert!(say("Subject: dots\r\n\r\n..leading dot\r\nplain\r\n.").starts_with("250 "));

        assert!(say("MAIL FROM:<>").starts_with("250 "));
        assert!(say("RCPT TO:<c@d.test>").starts_with("250 "));
        sink.set_failing(true);
        assert!(say("RCPT TO:<e@d.test>").starts_with("451 "));
        assert!(say("DATA").starts_with("354 "));
        assert!(say("Subject: refused\r\n\r\nbody\r\n.").starts_with("451 "));
        sink.set_failing(false);
        assert!(say("QUIT").starts_with("221 "));

        let messages = sink.messages();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0].envelope_from, "a@b.test");
        assert_eq!(messages[0].envelope_to, ["C@D.test"]);
        assert_eq!(messages[0].subject, "dots");
        assert_eq!(messages[0].text.replace("\r\n", "\n"), ".leading dot\nplain\n");
    }

    #[test]
    fn drop_stops_the_server() {
        let sink = SmtpSink::start();
        let addr = sink.addr;
        let _connected = StdTcpStream::connect(addr).unwrap();
        drop(sink);
        let err = StdTcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
