//! What an operator sees: `/metrics` moving with sign-ins and token exchanges, its switch and
//! scrape token, `X-Request-Id` echoed or generated, and JSON logs whose request lines all
//! carry the request id and never a code, a token or a credential.

use testkit::Gatehouse;

use crate::support::{self, Backend, TestClient};

/// The value of the sample line `series` (name and labels exactly as rendered), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.parse().unwrap())
}

async fn scrape(gh: &Gatehouse) -> String {
    let resp = reqwest::get(gh.url("/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    resp.text().await.unwrap()
}

/// Signs `email` in through the hosted pages for `client`; returns (code, verifier).
async fn code_for(gh: &Gatehouse, client: &TestClient, email: &str) -> (String, String) {
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid"),
            ("state", "state-that-must-not-be-logged"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = support::sign_in_for_code(&support::browser(), gh, &url, email).await;
    (support::query_param(&back, "code").unwrap(), verifier)
}

const PASSWORD_SUCCESS: &str = r#"gatehouse_sign_ins_total{method="password",result="success"}"#;
const PASSWORD_FAILURE: &str = r#"gatehouse_sign_ins_total{method="password",result="failure"}"#;
const CODE_ISSUED: &str = r#"gatehouse_tokens_issued_total{grant_type="authorization_code"}"#;
const TOKEN_OK: &str = r#"gatehouse_http_requests_total{method="POST",route="/token",status="200"}"#;
const TOKEN_TIMED: &str =
    r#"gatehouse_http_request_duration_seconds_count{method="POST",route="/token",status="200"}"#;

async fn metrics_move_with_sign_ins_and_token_exchanges(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "metrics@example.org");
    let before = scrape(gh).await;
    assert_eq!(sample(&before, PASSWORD_SUCCESS), 0.0, "{before}");
    assert!(sample(&before, "gatehouse_hash_pool_threads") >= 1.0, "{before}");
    assert!(
        before.contains("gatehouse_hash_pool_waiting 0")
            && before.contains("gatehouse_hash_pool_in_flight 0")
    );
    assert!(before.contains(r#"gatehouse_outbox_messages{state="pending"} 0"#), "{before}");

    let (status, _) =
        support::password_sign_in(gh, &support::browser(), "metrics@example.org", "Wrong-Horse-42").await;
    assert_eq!(status, 401);
    let (code, verifier) = code_for(gh, &client, "metrics@example.org").await;
    assert_eq!(support::redeem(gh, &client, &code, &verifier).await.status(), 200);

    let after = scrape(gh).await;
    for (series, moved) in [
        (PASSWORD_SUCCESS, 1.0),
        (PASSWORD_FAILURE, 1.0),
        (CODE_ISSUED, 1.0),
        (TOKEN_OK, 1.0),
        (TOKEN_TIMED, 1.0),
    ] {
        assert_eq!(sample(&after, series) - sample(&before, series), moved, "{series}:\n{after}");
    }
    // Routes are patterns: the query strings of /authorize and the sign-in pages never appear.
    assert!(after.contains(r#"route="/authorize""#) && after.contains(r#"route="/signin/password""#));
    for route in after.split("route=\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]) {
        assert!(route.starts_with('/') && !route.contains('?'), "route label {route:?}");
    }
    for secret in [code.as_str(), "state-that-must-not-be-logged", "metrics@example.org"] {
        assert!(!after.contains(secret), "{secret} in:\n{after}");
    }
}

/// The email-code method and lockouts show up under their own labels.
async fn email_codes_and_lockouts_are_counted(backend: Backend) {
    let (gh, sink) =
        support::start_with_mail(backend, &[("GATEHOUSE_ACCOUNTS__LOCKOUT__MAX_FAILURES", "2")]).await;
    let email = "codes@example.org";
    support::create_user(&gh, email);
    let before = scrape(&gh).await;

    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &gh.url("/signin")).await;
    let post = |path: &'static str, field: &'static str, value: String| {
        let (http, csrf, url) = (http.clone(), csrf.clone(), gh.url(path));
        async move { support::post_form(&http, url, &[("csrf", &csrf), ("email", email), (field, &value)]).await }
    };
    assert_eq!(post("/signin/method", "method", "email".into()).await.0, 200);
    let code = sink.wait_for(email, std::time::Duration::from_secs(20)).await.six_digit_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(post("/signin/code", "code", wrong.into()).await.0, 401);
    assert_eq!(post("/signin/code", "code", code).await.0, 200, "signed in (no portal to return to)");
    assert_eq!(post("/signin/password", "password", "Wrong-Horse-1".into()).await.0, 401);
    assert_eq!(post("/signin/password", "password", "Wrong-Horse-2".into()).await.0, 403, "locked");
    assert_eq!(post("/signin/password", "password", support::PASSWORD.into()).await.0, 403, "still locked");

    let after = scrape(&gh).await;
    for (series, moved) in [
        (r#"gatehouse_sign_ins_total{method="email_code",result="success"}"#, 1.0),
        (r#"gatehouse_sign_ins_total{method="email_code",result="failure"}"#, 1.0),
        (PASSWORD_FAILURE, 1.0),
        (r#"gatehouse_sign_ins_total{method="password",result="locked"}"#, 2.0),
        (PASSWORD_SUCCESS, 0.0),
    ] {
        assert_eq!(sample(&after, series) - sample(&before, series), moved, "{series}:\n{after}");
    }
}

async fn request_ids_are_echoed_or_generated(gh: &Gatehouse) {
    let http = reqwest::Client::new();
    let id_of = |resp: &reqwest::Response| resp.headers()["x-request-id"].to_str().unwrap().to_owned();

    let resp = http.get(gh.url("/health/live")).header("X-Request-Id", "lb-0042.a_b").send().await.unwrap();
    assert_eq!(id_of(&resp), "lb-0042.a_b");

    let first = id_of(&http.get(gh.url("/health/live")).send().await.unwrap());
    let second = id_of(&http.get(gh.url("/no/such/page")).send().await.unwrap());
    for id in [&first, &second] {
        assert!(uuid_like(id), "{id}");
    }
    assert_ne!(first, second);

    let long = "x".repeat(200);
    for bad in ["has space", "quote\"d", long.as_str()] {
        let resp = http.get(gh.url("/health/live")).header("X-Request-Id", bad).send().await.unwrap();
        let id = id_of(&resp);
        assert!(id != bad && uuid_like(&id), "{bad:?} became {id}");
    }
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') && id.matches('-').count() == 4
}

/// With `log.format = json`, every line the server prints is one JSON object; every line
/// written during a request names that request's id; each request gets exactly one access
/// line; and nothing secret from the query, the body or the headers is in the log.
async fn json_logs_carry_the_request_id_and_no_secrets(backend: Backend) {
    let gh = support::start_with(backend, &[("GATEHOUSE_LOG__FORMAT", "json")]).await;
    let client = support::create_client(&gh, &[]);
    support::create_user(&gh, "logs@example.org");
    let (code, verifier) = code_for(&gh, &client, "logs@example.org").await;
    let resp = reqwest::Client::new()
        .post(gh.url("/token"))
        .header("X-Request-Id", "token-exchange-1")
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tokens: serde_json::Value = resp.json().await.unwrap();
    let resp = reqwest::Client::new()
        .get(gh.url("/userinfo"))
        .header("X-Request-Id", "userinfo-1")
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let output = format!("{}{}", gh.stdout(), gh.stderr());
    let lines: Vec<serde_json::Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {l}")))
        .collect();
    let access: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["target"] == "gatehouse::access").collect();
    assert!(access.len() >= 6, "sign-in pages, authorize, token and userinfo are logged:\n{output}");
    for line in &lines {
        let in_request = line.get("span").is_some() || line["target"] == "gatehouse::access";
        if in_request {
            let id = line["span"]["request_id"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "a request's line without its id: {line}");
        }
    }
    for (id, route, status) in [("token-exchange-1", "/token", 200), ("userinfo-1", "/userinfo", 200)] {
        let mine: Vec<_> = lines.iter().filter(|l| l["span"]["request_id"] == id).collect();
        assert_eq!(mine.len(), 1, "one line for {id}:\n{output}");
        assert_eq!((mine[0]["route"].as_str(), mine[0]["status"].as_u64()), (Some(route), Some(status)));
        assert_eq!(mine[0]["method"], if route == "/token" { "POST" } else { "GET" });
        assert!(mine[0]["latency_ms"].is_number(), "{}", mine[0]);
    }
    let secret = client.secret.clone().unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    for leaked in [code.as_str(), verifier.as_str(), &secret, access_token, "state-that-must-not-be-logged"] {
        assert!(!output.contains(leaked), "{leaked} leaked into the log:\n{output}");
    }
}

async fn metrics_can_require_a_token_or_be_switched_off(backend: Backend) {
    let token = "scrape-token-0123456789abcdef";
    let gh = support::start_with(backend, &[("GATEHOUSE_METRICS__TOKEN", token)]).await;
    let http = reqwest::Client::new();
    let resp = http.get(gh.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let resp =
        http.get(gh.url("/metrics")).bearer_auth("scrape-token-0123456789abcdeX").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http.get(gh.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("gatehouse_http_requests_total"));
    drop(gh);

    let gh = support::start_with(Backend::Sqlite, &[("GATEHOUSE_METRICS__ENABLED", "false")]).await;
    assert_eq!(reqwest::get(gh.url("/metrics")).await.unwrap().status(), 404);
}

crate::on_both_backends!(metrics_move_with_sign_ins_and_token_exchanges, request_ids_are_echoed_or_generated);

mod per_backend {
    use super::*;
    crate::per_backend!(
        json_logs_carry_the_request_id_and_no_secrets,
        metrics_can_require_a_token_or_be_switched_off,
        email_codes_and_lockouts_are_counted,
    );
}
