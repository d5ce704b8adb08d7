//! The hosted sign-in in headless Chromium, step by step as the identifier-first guide tells a
//! citizen: "Email address" → "Next" → "Verify it's you with a security method" → Password
//! "Select" → "Verify with your password" → "Verify" → back at the portal with a code.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use testkit::Browser;

use crate::support::{self, Backend, PASSWORD};

/// A stand-in portal on loopback: answers every request so the browser can land on it.
pub(crate) fn portal() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nportal");
        }
    });
    format!("http://127.0.0.1:{port}/callback")
}

/// The input a visible label names: labels must be tied to their inputs.
pub(crate) async fn field(c: &Client, label: &str) -> fantoccini::elements::Element {
    let label = c.find(Locator::XPath(&format!("//label[normalize-space()=\"{label}\"]"))).await.unwrap();
    let id = label.attr("for").await.unwrap().expect("label has a for attribute");
    c.find(Locator::Id(&id)).await.unwrap()
}

pub(crate) async fn button(c: &Client, text: &str) -> fantoccini::elements::Element {
    c.find(Locator::XPath(&format!("//button[normalize-space()=\"{text}\"]"))).await.unwrap()
}

async fn heading(c: &Client) -> String {
    match c.find(Locator::Css("h1")).await {
        Ok(h1) => h1.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits for the page titled `expected`: a click on a submit button may return before the
/// next page has loaded, so one read could still see the previous page.
pub(crate) async fn expect_heading(c: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = heading(c).await;
        if now == expected {
            return;
        }
        assert!(Instant::now() < deadline, "expected the page {expected:?}, still on {now:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the page source contains `text`.
async fn expect_text(c: &Client, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c.source().await.unwrap_or_default().contains(text) {
        assert!(Instant::now() < deadline, "the page never showed {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_signs_in_through_the_hosted_pages_as_the_guide_says() {
    let gh = support::start(Backend::Sqlite).await;
    let redirect_uri = portal();
    let out = gh.cli_json(&["client", "create", "--name", "ATLCORE", "--redirect-uri", &redirect_uri]);
    let client_id = out["client_id"].as_str().unwrap().to_owned();
    let secret = out["client_secret"].as_str().unwrap().to_owned();
    support::create_user(&gh, "oledivaladymae@gmail.com");
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        &gh,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", &redirect_uri),
            ("scope", "openid profile email"),
            ("state", "guide-state"),
            ("nonce", "guide-nonce"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    expect_heading(c, "Sign in").await;
    // Step 2 with nothing typed: the guide's message.
    button(c, "Next").await.click().await.unwrap();
    expect_text(c, "This field cannot be left blank").await;

    // Steps 2–3: "Enter the email address", "Click Next".
    field(c, "Email address").await.send_keys("oledivaladymae@gmail.com").await.unwrap();
    field(c, "Keep me signed in").await.click().await.unwrap();
    button(c, "Next").await.click().await.unwrap();

    // Step 4: "Verify it's you with a security method": Password, Select.
    expect_heading(c, "Verify it's you with a security method").await;
    let row = c.find(Locator::XPath("//li[.//*[normalize-space()='Password']]")).await.unwrap();
    row.find(Locator::XPath(".//button[normalize-space()='Select']")).await.unwrap().click().await.unwrap();

    // Step 5: "Verify with your password", with "Forgot password?" and "Back to sign in".
    expect_heading(c, "Verify with your password").await;
    c.find(Locator::LinkText("Forgot password?")).await.unwrap();
    c.find(Locator::LinkText("Back to sign in")).await.unwrap();
    field(c, "Password").await.send_keys(PASSWORD).await.unwrap();
    button(c, "Verify").await.click().await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    let landed = loop {
        let now = c.current_url().await.unwrap();
        if now.as_str().starts_with(&redirect_uri) || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(landed.as_str().starts_with(&redirect_uri), "ended at {landed}");
    let code = support::query_param(landed.as_str(), "code").expect("a code at the portal");
    assert_eq!(support::query_param(landed.as_str(), "state").as_deref(), Some("guide-state"));

    let resp = reqwest::Client::new()
        .post(format!("{}/token", gh.base_url))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the portal exchanges the code");
    browser.close().await;
}

/// Follows the hosted pages up to "Verify it's you with a security method" and selects `method`.
async fn to_method(c: &Client, url: &str, email: &str, method: &str) {
    c.goto(url).await.unwrap();
    field(c, "Email address").await.send_keys(email).await.unwrap();
    button(c, "Next").await.click().await.unwrap();
    expect_heading(c, "Verify it's you with a security method").await;
    let row = c
        .find(Locator::XPath(&format!("//li[.//*[starts-with(normalize-space(), '{method}')]]")))
        .await
        .unwrap();
    row.find(Locator::XPath(".//button[normalize-space()='Select']")).await.unwrap().click().await.unwrap();
}

async fn wait_for_portal(c: &Client, redirect_uri: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = c.current_url().await.unwrap();
        if now.as_str().starts_with(redirect_uri) || Instant::now() > deadline {
            assert!(now.as_str().starts_with(redirect_uri), "ended at {now}");
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn mail_instance() -> (testkit::Gatehouse, testkit::SmtpSink) {
    let sink = testkit::SmtpSink::start();
    let url = sink.url();
    let gh = support::start_with(
        Backend::Sqlite,
        &[("GATEHOUSE_MAIL__TRANSPORT", "smtp"), ("GATEHOUSE_MAIL__SMTP_URL", url.as_str())],
    )
    .await;
    (gh, sink)
}

fn authorize(gh: &testkit::Gatehouse, client_id: &str, redirect_uri: &str) -> String {
    let (_, challenge) = testkit::pkce::pair();
    support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid email"),
            ("state", "s"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// ATLCORE guides, "If you forgot the password": Forgot password? → Send me an email → Email
/// sent! → the email's "Reset password" → New password, Repeat password → Reset Password; then
/// sign in with the new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_resets_a_forgotten_password_as_the_guide_says() {
    let (gh, sink) = mail_instance().await;
    let redirect_uri = portal();
    let out = gh.cli_json(&["client", "create", "--name", "ATLCORE", "--redirect-uri", &redirect_uri]);
    let client_id = out["client_id"].as_str().unwrap().to_owned();
    let email = "olemanstevie@gmail.com";
    support::create_user(&gh, email);
    let url = authorize(&gh, &client_id, &redirect_uri);

    let browser = Browser::start().await;
    let c = &browser.client;
    to_method(c, &url, email, "Password").await;
    expect_heading(c, "Verify with your password").await;
    // Step 5a: "Click Forgot password?"
    c.find(Locator::LinkText("Forgot password?")).await.unwrap().click().await.unwrap();
    expect_heading(c, "Get a verification email").await;
    expect_text(c, email).await;
    // Step 6: "Click Send me an email".
    button(c, "Send me an email").await.click().await.unwrap();
    expect_heading(c, "Email sent!").await;

    // Steps 11–12: the email from Community Access Identity, "Reset password".
    let mail = sink.wait_for(email, Duration::from_secs(15)).await;
    assert!(mail.from.contains("Community Access Identity"));
    c.goto(&mail.link("/password/reset")).await.unwrap();
    expect_heading(c, "Reset your password").await;
    expect_text(c, "Password requirements:").await;
    // Steps 13–15.
    field(c, "New password").await.send_keys("Fresh-Start-2026").await.unwrap();
    field(c, "Repeat password").await.send_keys("Fresh-Start-2026").await.unwrap();
    button(c, "Reset Password").await.click().await.unwrap();
    expect_heading(c, "Your password has been reset").await;

    to_method(c, &url, email, "Password").await;
    expect_heading(c, "Verify with your password").await;
    field(c, "Password").await.send_keys("Fresh-Start-2026").await.unwrap();
    button(c, "Verify").await.click().await.unwrap();
    let landed = wait_for_portal(c, &redirect_uri).await;
    assert!(support::query_param(landed.as_str(), "code").is_some());
    browser.close().await;
}

/// Identifier-first guide, step 4: "selecting Email, a verification code will be sent".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_signs_in_with_an_emailed_code_as_the_guide_says() {
    let (gh, sink) = mail_instance().await;
    let redirect_uri = portal();
    let out = gh.cli_json(&["client", "create", "--name", "ATLCORE", "--redirect-uri", &redirect_uri]);
    let client_id = out["client_id"].as_str().unwrap().to_owned();
    let email = "oledivaladymae@gmail.com";
    support::create_user(&gh, email);

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&authorize(&gh, &client_id, &redirect_uri)).await.unwrap();
    field(c, "Email address").await.send_keys(email).await.unwrap();
    button(c, "Next").await.click().await.unwrap();
    expect_heading(c, "Verify it's you with a security method").await;
    expect_text(c, "o***e@gmail.com").await; // the guide's masked address
    let row = c.find(Locator::XPath("//li[.//*[starts-with(normalize-space(), 'Email')]]")).await.unwrap();
    row.find(Locator::XPath(".//button[normalize-space()='Select']")).await.unwrap().click().await.unwrap();
    expect_heading(c, "Verify with your email").await;
    let code = sink.wait_for(email, Duration::from_secs(15)).await.six_digit_code();
    field(c, "Verification code").await.send_keys(&code).await.unwrap();
    button(c, "Verify").await.click().await.unwrap();
    let landed = wait_for_portal(c, &redirect_uri).await;
    assert!(support::query_param(landed.as_str(), "code").is_some());
    browser.close().await;
}
