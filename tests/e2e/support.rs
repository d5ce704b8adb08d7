//! Shared helpers: start gatehouse on a backend, register clients and accounts through the
//! CLI, and sign in through the hosted pages over plain HTTP (the browser test does the same
//! in Chromium).

use std::path::Path;

use reqwest::header::LOCATION;
use testkit::{Gatehouse, SmtpSink};

pub const PASSWORD: &str = "Correct-Horse-42";

/// Every rate limit off (`[limits]`), for suites that fire many requests from one address on
/// purpose (races, crashes) and test something other than the limits.
pub const UNLIMITED: [(&str, &str); 5] = [
    ("GATEHOUSE_LIMITS__SIGN_IN_PER_IP_PER_MINUTE", "0"),
    ("GATEHOUSE_LIMITS__MAIL_PER_IP_PER_MINUTE", "0"),
    ("GATEHOUSE_LIMITS__LINKS_PER_IP_PER_MINUTE", "0"),
    ("GATEHOUSE_LIMITS__TOKEN_PER_IP_PER_MINUTE", "0"),
    ("GATEHOUSE_LIMITS__SIGN_IN_PER_ACCOUNT", "0"),
];

#[derive(Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gatehouse"))
}

pub async fn start(backend: Backend) -> Gatehouse {
    start_with(backend, &[]).await
}

pub async fn start_with(backend: Backend, env: &[(&str, &str)]) -> Gatehouse {
    let mut builder = Gatehouse::builder(bin());
    match backend {
        Backend::Sqlite => {}
        Backend::Postgres => builder = builder.database(testkit::fresh_database_url()),
    }
    for (k, v) in env {
        builder = builder.env(*k, *v);
    }
    builder.start().await
}

#[derive(Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

pub fn create_client(gh: &Gatehouse, extra: &[&str]) -> TestClient {
    create_named_client(gh, "311", extra)
}

/// [`create_client`] with the portal's name.
pub fn create_named_client(gh: &Gatehouse, name: &str, extra: &[&str]) -> TestClient {
    let redirect_uri = "http://127.0.0.1:9/callback".to_owned();
    let mut args = vec!["client", "create", "--name", name, "--redirect-uri", &redirect_uri];
    args.extend_from_slice(extra);
    let out = gh.cli_json(&args);
    TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().map(str::to_owned),
        redirect_uri,
    }
}

/// Creates a verified account and returns its id.
pub fn create_user(gh: &Gatehouse, email: &str) -> String {
    let out = gh.cli_json(&[
        "user",
        "create",
        "--email",
        email,
        "--password",
        PASSWORD,
        "--name",
        "Ole Mae",
        "--email-verified",
    ]);
    out["id"].as_str().unwrap().to_owned()
}

/// A browser without JavaScript: keeps cookies, follows no redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The value of a hidden form field in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start =
        html.find(&marker).unwrap_or_else(|| panic!("no field {name} in page:\n{html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    unescape(&html[start..end])
}

/// Decodes the HTML character references a template engine may emit in an attribute.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').map(|e| e + i).expect("terminated character reference");
        let entity = &rest[i + 1..end];
        let c = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ if entity.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&entity[2..], 16).unwrap()).unwrap()
            }
            _ if entity.starts_with('#') => char::from_u32(entity[1..].parse().unwrap()).unwrap(),
            _ => panic!("unknown entity {entity}"),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Follows the hosted pages as a citizen would: the authorization URL leads to "Sign in",
/// then "Verify it's you with a security method" → Password "Select", then "Verify with your
/// password" → "Verify". Returns the final response of the password step.
pub async fn sign_in(
    http: &reqwest::Client,
    gh: &Gatehouse,
    authorize_url: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    sign_in_at(http, &gh.base_url, authorize_url, email, password).await
}

/// [`sign_in`] on the server at `base` (a server whose issuer is not its `base_url`, such as
/// an upstream provider reached as `http://localhost:PORT`).
pub async fn sign_in_at(
    http: &reqwest::Client,
    base: &str,
    authorize_url: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let resp = http.get(authorize_url).send().await.unwrap();
    assert_eq!(resp.status(), 302, "authorize should redirect to sign-in");
    let sign_in_page = format!("{base}{}", location(&resp));
    assert!(sign_in_page.contains("/signin?"), "{sign_in_page}");
    let html = http.get(&sign_in_page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Email address") && html.contains("Keep me signed in") && html.contains(">Next<"));
    let csrf = hidden(&html, "csrf");
    let continue_to = hidden(&html, "continue");

    let html = http
        .post(format!("{base}/signin/identify"))
        .form(&[("csrf", csrf.as_str()), ("continue", &continue_to), ("email", email)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Verify it&#x27;s you with a security method")
            || html.contains("Verify it's you with a security method"),
        "{html}"
    );
    let html = http
        .post(format!("{base}/signin/method"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", &continue_to),
            ("email", email),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Verify with your password") && html.contains("Forgot password?"), "{html}");
    http.post(format!("{base}/signin/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", &continue_to),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs in and follows the way back to `/authorize`, returning the portal redirect URL.
pub async fn sign_in_for_code(
    http: &reqwest::Client,
    gh: &Gatehouse,
    authorize_url: &str,
    email: &str,
) -> String {
    let resp = sign_in(http, gh, authorize_url, email, PASSWORD).await;
    assert_eq!(resp.status(), 303, "a right password returns to the authorization endpoint");
    let back = format!("{}{}", gh.base_url, location(&resp));
    let resp = http.get(&back).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    location(&resp)
}

/// Signs `email` in through the hosted pages for `client` and `scope` (PKCE S256, state `s1`,
/// nonce `n1`); returns the code and its verifier.
pub async fn code_for(gh: &Gatehouse, client: &TestClient, email: &str, scope: &str) -> (String, String) {
    let (verifier, challenge) = testkit::pkce::pair();
    let url = authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", scope),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = sign_in_for_code(&browser(), gh, &url, email).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    (code, verifier)
}

/// A hand-built authorization URL (for the error cases the RP library will not produce).
pub fn authorize_url(gh: &Gatehouse, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{}/authorize?{query}", gh.base_url)
}

/// Redeems a code at the token endpoint with HTTP Basic client authentication.
pub async fn redeem(gh: &Gatehouse, client: &TestClient, code: &str, verifier: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/token", gh.base_url))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

/// Starts gatehouse delivering mail to a fresh SMTP sink on loopback.
pub async fn start_with_mail(backend: Backend, extra: &[(&str, &str)]) -> (Gatehouse, SmtpSink) {
    let sink = SmtpSink::start();
    let url = sink.url();
    let mut env = vec![("GATEHOUSE_MAIL__TRANSPORT", "smtp"), ("GATEHOUSE_MAIL__SMTP_URL", url.as_str())];
    env.extend_from_slice(extra);
    (start_with(backend, &env).await, sink)
}

/// GETs a page and returns (csrf token, html).
pub async fn form_page(http: &reqwest::Client, url: &str) -> (String, String) {
    let html = http.get(url).send().await.unwrap().text().await.unwrap();
    (hidden(&html, "csrf"), html)
}

/// POSTs a form and returns (status, body).
pub async fn post_form(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String) {
    let resp = http.post(url).form(form).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Signs in with a password through the pages, without an authorization request.
pub async fn password_sign_in(
    gh: &Gatehouse,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> (u16, String) {
    let (csrf, _) = form_page(http, &format!("{}/signin", gh.base_url)).await;
    post_form(
        http,
        format!("{}/signin/password", gh.base_url),
        &[("csrf", &csrf), ("email", email), ("password", password)],
    )
    .await
}

/// Rows of `sql` run on the server's database as an operator would (`psql` on PostgreSQL, the
/// `sqlite3` shell on SQLite), one string per row, columns joined by `|`.
pub fn query(gh: &Gatehouse, sql: &str) -> Vec<String> {
    let out = match gh.database_url.strip_prefix("sqlite://") {
        Some(path) => {
            let output = std::process::Command::new("sqlite3")
                .args([path, sql])
                .output()
                .unwrap_or_else(|e| panic!("cannot run sqlite3 (apt-get install sqlite3): {e}"));
            assert!(output.status.success(), "{sql}: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        }
        None => testkit::psql(&gh.database_url, sql),
    };
    out.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}
