//! The rest of the authorization and userinfo surface: POST forms of both endpoints,
//! `login_hint`, `max_age`, the ID token's session claims, code expiry.

use testkit::Gatehouse;

use crate::support::{self, Backend, TestClient};

fn params<'a>(client: &'a TestClient, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid email"),
        ("state", "st"),
        ("nonce", "nn"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

async fn post_forms_of_authorize_and_userinfo_work(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "post-forms@example.org");
    let (verifier, challenge) = testkit::pkce::pair();
    let http = support::browser();
    let url = support::authorize_url(gh, &params(&client, &challenge));
    support::sign_in_for_code(&http, gh, &url, "post-forms@example.org").await;

    // OIDC Core §3.1.2.1: the authorization endpoint also takes the request as a POST form.
    let resp = http
        .post(format!("{}/authorize", gh.base_url))
        .form(&params(&client, &challenge))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let code = support::query_param(&support::location(&resp), "code").expect("a code from the POST form");
    let body: serde_json::Value = support::redeem(gh, &client, &code, &verifier).await.json().await.unwrap();

    // The ID token carries the session: auth_time, amr, sid, nonce, at_hash, azp.
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert!(id["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(id["auth_time"].is_i64() && id["at_hash"].is_string());
    assert_eq!(id["nonce"], "nn");
    assert_eq!(id["aud"], client.id.as_str());

    // RFC 6750 §2.2: the access token in a form body.
    let resp = reqwest::Client::new()
        .post(format!("{}/userinfo", gh.base_url))
        .form(&[("access_token", body["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let info: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(info["email"], "post-forms@example.org");
    assert_eq!(info["sub"], id["sub"]);
}

async fn login_hint_fills_in_the_email(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (_, challenge) = testkit::pkce::pair();
    let mut p = params(&client, &challenge);
    p.push(("login_hint", "hinted@example.org"));
    let http = support::browser();
    let resp = http.get(support::authorize_url(gh, &p)).send().await.unwrap();
    let page = format!("{}{}", gh.base_url, support::location(&resp));
    let html = http.get(page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"hinted@example.org\""), "{html}");
}

async fn max_age_zero_asks_again_then_returns_a_code(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "maxage@example.org");
    let (verifier, challenge) = testkit::pkce::pair();
    let http = support::browser();
    support::sign_in_for_code(
        &http,
        gh,
        &support::authorize_url(gh, &params(&client, &challenge)),
        "maxage@example.org",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut p = params(&client, &challenge);
    p.push(("max_age", "0"));
    let url = support::authorize_url(gh, &p);
    // A session older than max_age means signing in again; after that, a code (no loop).
    let back = support::sign_in_for_code(&http, gh, &url, "maxage@example.org").await;
    let code = support::query_param(&back, "code").expect("a code after signing in again");
    let body: serde_json::Value = support::redeem(gh, &client, &code, &verifier).await.json().await.unwrap();
    let id = claims(body["id_token"].as_str().unwrap());
    assert!(
        id["auth_time"].as_i64().unwrap() >= id["iat"].as_i64().unwrap() - 5,
        "auth_time is the new sign-in"
    );
}

crate::on_both_backends!(
    post_forms_of_authorize_and_userinfo_work,
    login_hint_fills_in_the_email,
    max_age_zero_asks_again_then_returns_a_code,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_invalid_grant() {
    let gh = support::start_with(Backend::Sqlite, &[("GATEHOUSE_TOKENS__CODE_TTL", "1")]).await;
    let client = support::create_client(&gh, &[]);
    support::create_user(&gh, "late@example.org");
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(&gh, &params(&client, &challenge));
    let back = support::sign_in_for_code(&support::browser(), &gh, &url, "late@example.org").await;
    let code = support::query_param(&back, "code").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let resp = support::redeem(&gh, &client, &code, &verifier).await;
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_clients_may_call_the_token_endpoint_cross_origin() {
    let gh = support::start(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let resp = http
        .request(reqwest::Method::OPTIONS, format!("{}/token", gh.base_url))
        .header("Origin", "https://311.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(resp.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let resp = http.get(format!("{}/.well-known/jwks.json", gh.base_url)).send().await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    // The sign-in pages are not for other origins.
    let resp = http.get(format!("{}/signin", gh.base_url)).send().await.unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}
