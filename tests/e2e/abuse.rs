//! Rate limits against the running binary: per client address (each node's memory) on the token
//! endpoint, the sign-in forms and the JSON API, each answering 429 with `Retry-After` in its
//! own shape; per account (the database, shared by every node) on password and code sign-in;
//! and `Forwarded` / `X-Forwarded-For` believed only from a trusted proxy.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Gatehouse;

use crate::support::{self, Backend};

fn retry_after(resp: &reqwest::Response) -> i64 {
    let header = resp.headers().get("retry-after").unwrap_or_else(|| panic!("no Retry-After: {resp:?}"));
    header.to_str().unwrap().parse().unwrap()
}

async fn wrong_password(http: &reqwest::Client, gh: &Gatehouse, email: &str) -> reqwest::Response {
    http.post(gh.url("/api/v1/signin/password"))
        .json(&json!({ "email": email, "password": "Not-The-Password-1" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_token_endpoint_limits_each_address_with_an_oauth_error_and_retry_after() {
    let gh =
        support::start_with(Backend::Sqlite, &[("GATEHOUSE_LIMITS__TOKEN_PER_IP_PER_MINUTE", "3")]).await;
    let http = reqwest::Client::new();
    let request = || {
        http.post(gh.url("/token"))
            .basic_auth("no-such-client", Some("x"))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(request().await.unwrap().status(), 401, "under the limit: the usual answer");
    }
    let resp = request().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=20).contains(&retry_after(&resp)), "3 a minute refill one each 20 s");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "error": "invalid_request", "error_description": "too many requests; retry later" })
    );
    // Discovery is not limited.
    assert_eq!(http.get(gh.url("/.well-known/openid-configuration")).send().await.unwrap().status(), 200);
    // The operator sees it.
    let metrics = http.get(gh.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("gatehouse_rate_limited_total{limit=\"token\"} 1"), "{metrics}");
}

#[tokio::test]
async fn sign_in_limits_per_address_answer_json_in_the_api_and_a_page_on_the_forms() {
    let gh =
        support::start_with(Backend::Sqlite, &[("GATEHOUSE_LIMITS__SIGN_IN_PER_IP_PER_MINUTE", "2")]).await;
    let http = support::browser();
    for _ in 0..2 {
        assert_eq!(wrong_password(&http, &gh, "nobody@example.org").await.status(), 401);
    }
    let resp = wrong_password(&http, &gh, "somebody-else@example.org").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "the address is limited, whatever the email");
    let wait = retry_after(&resp);
    let body: Value = resp.json().await.unwrap();
    assert_eq!((&body["error"], &body["retry_after"]), (&json!("too_many_requests"), &json!(wait)), "{body}");

    // The hosted form shares the address's budget and answers with a page.
    let (csrf, _) = support::form_page(&http, &gh.url("/signin")).await;
    let resp = http
        .post(gh.url("/signin/password"))
        .form(&[("csrf", csrf.as_str()), ("email", "nobody@example.org"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&resp) >= 1);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("Please wait") && html.contains("try again"), "{html}");
}

/// Two nodes on one database: an account's budget is spent on one and honoured on the other,
/// whatever case the address is typed in; another address is untouched.
async fn an_accounts_sign_in_budget_is_shared_by_every_node(backend: Backend) {
    let (_dir, database) = match backend {
        Backend::Sqlite => {
            let (dir, url) = testkit::fresh_sqlite_url();
            (Some(dir), url)
        }
        Backend::Postgres => (None, testkit::fresh_database_url()),
    };
    let master = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let node = || {
        Gatehouse::builder(support::bin())
            .database(database.clone())
            .env("GATEHOUSE_KEYS__MASTER_KEY", master.clone())
            .env("GATEHOUSE_LIMITS__SIGN_IN_PER_ACCOUNT", "3")
            // Lockout would answer first; this test is about the budget.
            .env("GATEHOUSE_ACCOUNTS__LOCKOUT__MAX_FAILURES", "0")
            .start()
    };
    let first = node().await;
    let second = node().await;
    let email = "budget@example.org";
    support::create_user(&first, email);
    let http = reqwest::Client::new();
    for gh in [&first, &second, &first] {
        assert_eq!(wrong_password(&http, gh, email).await.status(), 401);
    }
    let resp = wrong_password(&http, &second, "Budget@Example.org ").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "the budget is per address, on every node");
    assert!(retry_after(&resp) > 800, "the 900 s window has just begun");
    // The right password waits too: the budget is spent before the password is checked.
    let resp = http
        .post(second.url("/api/v1/signin/password"))
        .json(&json!({ "email": email, "password": support::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // So does an emailed code's verification for that address.
    let resp = http
        .post(first.url("/api/v1/signin/code/verify"))
        .json(&json!({ "email": email, "code": "123456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests", "the API's shape, not a page: {body}");
    // An unknown address has its own budget (and hears the same as a known one would).
    assert_eq!(wrong_password(&http, &first, "other@example.org").await.status(), 401);
}

#[tokio::test]
async fn an_accounts_sign_in_budget_is_shared_by_every_node_sqlite() {
    an_accounts_sign_in_budget_is_shared_by_every_node(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_accounts_sign_in_budget_is_shared_by_every_node_postgres() {
    an_accounts_sign_in_budget_is_shared_by_every_node(Backend::Postgres).await;
}

#[tokio::test]
async fn x_forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let limit = ("GATEHOUSE_LIMITS__SIGN_IN_PER_IP_PER_MINUTE", "1");
    let spoof = |http: &reqwest::Client, gh: &Gatehouse, xff: &str| {
        http.post(gh.url("/api/v1/signin/password"))
            .header("X-Forwarded-For", xff.to_owned())
            .json(&json!({ "email": "nobody@example.org", "password": "x" }))
            .send()
    };
    let http = reqwest::Client::new();

    // No trusted proxy: the header is ignored, so a new value per request buys nothing.
    let direct = support::start_with(Backend::Sqlite, &[limit]).await;
    assert_eq!(spoof(&http, &direct, "203.0.113.1").await.unwrap().status(), 401);
    assert_eq!(spoof(&http, &direct, "203.0.113.2").await.unwrap().status(), 429);

    // Behind a trusted proxy (the test's loopback), each forwarded client has its own budget,
    // and an entry the client wrote to the left of the proxy's does not count.
    let proxied = support::start_with(
        Backend::Sqlite,
        &[limit, ("GATEHOUSE_HTTP__TRUSTED_PROXIES", "[\"127.0.0.0/8\"]")],
    )
    .await;
    assert_eq!(spoof(&http, &proxied, "203.0.113.1").await.unwrap().status(), 401);
    assert_eq!(spoof(&http, &proxied, "203.0.113.2").await.unwrap().status(), 401);
    assert_eq!(spoof(&http, &proxied, "198.51.100.9, 203.0.113.1").await.unwrap().status(), 429);
}

#[tokio::test]
async fn forwarded_names_the_client_only_behind_a_trusted_proxy() {
    let limit = ("GATEHOUSE_LIMITS__SIGN_IN_PER_IP_PER_MINUTE", "1");
    let sign_in = |http: &reqwest::Client, gh: &Gatehouse, forwarded: &str, xff: Option<&str>| {
        let mut req = http
            .post(gh.url("/api/v1/signin/password"))
            .header("Forwarded", forwarded.to_owned())
            .json(&json!({ "email": "nobody@example.org", "password": "x" }));
        if let Some(xff) = xff {
            req = req.header("X-Forwarded-For", xff.to_owned());
        }
        req.send()
    };
    let http = reqwest::Client::new();

    // No trusted proxy: the peer's Forwarded header is ignored, so a new value per request buys
    // nothing.
    let direct = support::start_with(Backend::Sqlite, &[limit]).await;
    assert_eq!(sign_in(&http, &direct, "for=203.0.113.1", None).await.unwrap().status(), 401);
    assert_eq!(sign_in(&http, &direct, "for=203.0.113.2", None).await.unwrap().status(), 429);

    // Behind a trusted proxy that writes X-Forwarded-For (the default header), a Forwarded
    // header the client sent through it is ignored: new values buy nothing.
    let trusted = ("GATEHOUSE_HTTP__TRUSTED_PROXIES", "[\"127.0.0.0/8\"]");
    let xff_proxy = support::start_with(Backend::Sqlite, &[limit, trusted]).await;
    assert_eq!(sign_in(&http, &xff_proxy, "for=203.0.113.1", None).await.unwrap().status(), 401);
    assert_eq!(sign_in(&http, &xff_proxy, "for=203.0.113.2", None).await.unwrap().status(), 429);

    // Behind a trusted proxy that writes Forwarded, each forwarded client has its own budget.
    let header = ("GATEHOUSE_HTTP__CLIENT_IP_HEADER", "forwarded");
    let proxied = support::start_with(Backend::Sqlite, &[limit, trusted, header]).await;
    assert_eq!(sign_in(&http, &proxied, "for=203.0.113.1", None).await.unwrap().status(), 401);
    let v6 = "for=\"[2001:db8::1]:4711\";proto=https";
    assert_eq!(sign_in(&http, &proxied, v6, None).await.unwrap().status(), 401);
    // An element the client wrote left of the proxy's does not count; nor does X-Forwarded-For,
    // which this proxy does not write.
    let forged = "for=198.51.100.9, for=203.0.113.1";
    assert_eq!(sign_in(&http, &proxied, forged, Some("198.51.100.10")).await.unwrap().status(), 429);
    // A hidden client (RFC 7239 §6.3) or a malformed value is not an address: the request
    // counts against the proxy's own budget (first used here), then that budget is spent.
    assert_eq!(sign_in(&http, &proxied, "for=_hidden", None).await.unwrap().status(), 401);
    assert_eq!(sign_in(&http, &proxied, "for=\"203.0.113.77", None).await.unwrap().status(), 429);
    assert_eq!(sign_in(&http, &proxied, "for=unknown", None).await.unwrap().status(), 429);
}
