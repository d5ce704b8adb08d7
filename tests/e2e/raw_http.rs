//! HTTP/1.1 over a raw TCP stream, for requests no HTTP client would send (invalid UTF-8 in
//! headers, a body larger than declared limits, random bytes): one request per connection
//! (`Connection: close`), the answer read while the request is still being written.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any answer may take: reaching it is a hang.
const TIMEOUT: Duration = Duration::from_secs(15);

/// A parsed response; `None` from [`send`] is a clean close without one.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `raw` while reading the answer (a server may answer before the body is sent), with a
/// timeout: a hang is a failure.
pub async fn send(base: &str, raw: Vec<u8>) -> Result<Option<Response>, String> {
    let addr = base.trim_start_matches("http://").to_owned();
    let exchange = async move {
        let stream = TcpStream::connect(&addr).await.map_err(|e| format!("connect: {e}"))?;
        let (mut reader, mut writer) = stream.into_split();
        let writing = tokio::spawn(async move {
            // The server may close early (413, 431): a broken pipe is not a failure here.
            let _ = writer.write_all(&raw).await;
            let _ = writer.flush().await;
            writer
        });
        let mut got = Vec::new();
        let _ = reader.read_to_end(&mut got).await;
        drop(writing.await);
        Ok::<_, String>(got)
    };
    let got = tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| "no answer: hang".to_owned())??;
    if got.is_empty() {
        return Ok(None);
    }
    parse(&got).map(Some)
}

fn parse(got: &[u8]) -> Result<Response, String> {
    let text = String::from_utf8_lossy(got);
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| format!("truncated: {text}"))?;
    let head = String::from_utf8_lossy(&got[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {status_line}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = got[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Ok(Response { status, headers, body })
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
        rest = &rest[(eol + 4 + size).min(rest.len())..];
    }
    out
}
