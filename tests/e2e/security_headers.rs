//! Security headers on every kind of response, CORS only where it belongs, and over https the
//! `__Host-`/`__Secure-` cookie names, `Secure`, and HSTS.

use reqwest::header::HeaderMap;
use serde_json::json;
use testkit::Gatehouse;

use crate::support::{self, Backend};

fn assert_hardened(what: &str, headers: &HeaderMap) {
    let get = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let csp = get("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{what}: CSP {csp:?}"
    );
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_cors_stays_on_its_routes() {
    let gh = support::start(Backend::Sqlite).await;
    let http = support::browser();
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("a page", http.get(gh.url("/signin"))),
        ("discovery", http.get(gh.url("/.well-known/openid-configuration"))),
        ("a token error", http.post(gh.url("/token")).form(&[("grant_type", "nope")])),
        ("an API error", http.post(gh.url("/api/v1/signin/password")).json(&json!({}))),
        ("an unknown route", http.get(gh.url("/no/such/page"))),
        ("a redirect", http.get(gh.url("/profile"))),
        ("health", http.get(gh.url("/health/live"))),
        ("a bearer error", http.get(gh.url("/userinfo"))),
    ];
    for (what, request) in cases {
        let resp = request.send().await.unwrap();
        assert_hardened(what, resp.headers());
        assert!(resp.headers().get("strict-transport-security").is_none(), "{what}: no HSTS over http");
        let cors = resp.headers().get("access-control-allow-origin").is_some();
        let cross_origin_route = matches!(what, "discovery" | "a token error" | "a bearer error");
        assert_eq!(
            cors, cross_origin_route,
            "{what}: Access-Control-Allow-Origin only on the public endpoints"
        );
    }
    // The pages keep their own policy (styles from 'self'), no script.
    let resp = http.get(gh.url("/signin")).send().await.unwrap();
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("style-src 'self'") && !csp.contains("script-src"), "{csp}");
}

/// The server listens on plain http (as behind a TLS proxy) with an https issuer.
async fn start_https(backend: Backend) -> Gatehouse {
    let port = testkit::free_port();
    let mut builder = Gatehouse::builder(support::bin())
        .port(port)
        .env("GATEHOUSE_ISSUER", format!("https://127.0.0.1:{port}"));
    if let Backend::Postgres = backend {
        builder = builder.database(testkit::fresh_database_url());
    }
    builder.start().await
}

async fn over_https_cookies_are_prefixed_and_secure_and_hsts_is_sent(backend: Backend) {
    let gh = start_https(backend).await;
    let email = "secure@example.org";
    support::create_user(&gh, email);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let page = http.get(gh.url("/signin")).send().await.unwrap();
    assert_hardened("a page over https", page.headers());
    assert_eq!(page.headers()["strict-transport-security"], "max-age=63072000; includeSubDomains");
    let cookies = set_cookies(page.headers());
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("__Host-gatehouse_csrf="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    for attribute in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(csrf.split("; ").any(|a| a == attribute), "{attribute} missing: {csrf}");
    }
    assert!(!csrf.contains("Domain="), "{csrf}");

    let resp = http
        .post(gh.url("/api/v1/signin/password"))
        .json(&json!({ "email": email, "password": support::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("strict-transport-security").is_some(), "HSTS on JSON too");
    let cookies = set_cookies(resp.headers());
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-gatehouse_session="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    for attribute in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(session.split("; ").any(|a| a == attribute), "{attribute} missing: {session}");
    }
    assert!(
        !cookies.iter().any(|c| c.starts_with("gatehouse_")),
        "no unprefixed cookie over https: {cookies:?}"
    );

    // The session is read back under its prefixed name.
    let value = session.split(';').next().unwrap().to_owned();
    let profile = http.get(gh.url("/api/v1/session")).header("Cookie", value.clone()).send().await.unwrap();
    assert_eq!(profile.status(), 200, "the __Host- session cookie signs the citizen in");
    // The unprefixed name is not honoured over https (a sibling or plain-http response could set it).
    let plain = value.replacen("__Host-", "", 1);
    let profile = http.get(gh.url("/api/v1/session")).header("Cookie", plain).send().await.unwrap();
    assert_eq!(profile.status(), 401);
}

/// The upstream flow's binding cookie: `__Secure-`, `Secure`, and still only for `/federation`.
#[tokio::test]
async fn over_https_the_federation_binding_cookie_is_secure_prefixed_and_path_limited() {
    let up_port = testkit::free_port();
    let upstream_url = format!("http://localhost:{up_port}");
    let _upstream =
        Gatehouse::builder(support::bin()).port(up_port).env("GATEHOUSE_ISSUER", &upstream_url).start().await;
    let port = testkit::free_port();
    let gh = Gatehouse::builder(support::bin())
        .port(port)
        .env("GATEHOUSE_ISSUER", format!("https://127.0.0.1:{port}"))
        .env("GATEHOUSE_FEDERATION__GOOGLE__CLIENT_ID", "gatehouse")
        .env("GATEHOUSE_FEDERATION__GOOGLE__CLIENT_SECRET", "not-used-here")
        .env("GATEHOUSE_FEDERATION__GOOGLE__ISSUER", &upstream_url)
        .start()
        .await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(gh.url("/federation/google/start")).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{:?}", resp.headers());
    assert!(resp.headers().get("strict-transport-security").is_some());
    let cookies = set_cookies(resp.headers());
    let binding = cookies
        .iter()
        .find(|c| c.starts_with("__Secure-gatehouse_federation="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    for attribute in ["Secure", "HttpOnly", "Path=/federation", "SameSite=Lax"] {
        assert!(binding.split("; ").any(|a| a == attribute), "{attribute} missing: {binding}");
    }
}

#[tokio::test]
async fn over_https_cookies_are_prefixed_and_secure_and_hsts_is_sent_sqlite() {
    over_https_cookies_are_prefixed_and_secure_and_hsts_is_sent(Backend::Sqlite).await;
}

#[tokio::test]
async fn over_https_cookies_are_prefixed_and_secure_and_hsts_is_sent_postgres() {
    over_https_cookies_are_prefixed_and_secure_and_hsts_is_sent(Backend::Postgres).await;
}
