//! Consent and `response_mode=form_post` in headless Chromium: the consent page's "Allow", then
//! the form_post page submitting itself under its Content Security Policy (the inline script is
//! allowed by its hash only), so the portal receives a POST with the code.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use testkit::Browser;

use crate::support::{self, Backend, PASSWORD};

/// A stand-in portal on loopback that reports each request's first line and body.
fn recording_portal() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            let (head, mut body) = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                raw.extend_from_slice(&buf[..n]);
                if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    break (String::from_utf8_lossy(&raw[..i]).into_owned(), raw[i + 4..].to_vec());
                }
                if n == 0 {
                    break (String::from_utf8_lossy(&raw).into_owned(), Vec::new());
                }
            };
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            while body.len() < length {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nportal",
            );
            let first = head.lines().next().unwrap_or_default().to_owned();
            let _ = tx.send((first, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (format!("http://127.0.0.1:{port}/callback"), rx)
}

async fn click(c: &Client, xpath: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.find(Locator::XPath(xpath)).await {
            Ok(e) => return e.click().await.unwrap(),
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("no {xpath}: {e}"),
        }
    }
}

async fn type_into(c: &Client, name: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.find(Locator::Css(&format!("input[name=\"{name}\"]:not([type=hidden])"))).await {
            Ok(e) => return e.send_keys(text).await.unwrap(),
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("no input {name}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_then_form_post_reaches_the_portal_in_a_real_browser() {
    let gh = support::start(Backend::Sqlite).await;
    let (redirect_uri, requests) = recording_portal();
    let out = gh.cli_json(&[
        "client",
        "create",
        "--name",
        "Permit helper",
        "--redirect-uri",
        &redirect_uri,
        "--third-party",
    ]);
    let client_id = out["client_id"].as_str().unwrap().to_owned();
    support::create_user(&gh, "chromium@example.org");
    let (_, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        &gh,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", &redirect_uri),
            ("scope", "openid email"),
            ("state", "fp-state"),
            ("response_mode", "form_post"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    type_into(c, "email", "chromium@example.org").await;
    click(c, "//button[normalize-space()='Next']").await;
    click(c, "//li[.//*[normalize-space()='Password']]//button[normalize-space()='Select']").await;
    type_into(c, "password", PASSWORD).await;
    click(c, "//button[normalize-space()='Verify']").await;
    // The consent page, then the form_post page, which submits itself.
    click(c, "//button[normalize-space()='Allow']").await;
    let (line, body) = tokio::task::spawn_blocking(move || requests.recv_timeout(Duration::from_secs(15)))
        .await
        .unwrap()
        .expect("the portal received the response");
    assert!(line.starts_with("POST /callback "), "{line}");
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["code", "state", "iss"], "{body}");
    assert_eq!(fields[1].1, "fp-state");
    assert_eq!(fields[2].1, gh.base_url);
    browser.close().await;
}
