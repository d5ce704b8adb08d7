//! The error cases of the authorization and token endpoints, on the wire.

use testkit::Gatehouse;

use crate::support::{self, TestClient};

/// An authorization URL with PKCE; returns it with the verifier.
fn good_request(gh: &Gatehouse, client: &TestClient, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = testkit::pkce::pair();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid email"),
        ("state", "xyz"),
        ("nonce", "n-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(key, _)| key != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    (support::authorize_url(gh, &params), verifier)
}

async fn code_for(gh: &Gatehouse, client: &TestClient, email: &str) -> (String, String) {
    support::create_user(gh, email);
    let (url, verifier) = good_request(gh, client, &[]);
    let back = support::sign_in_for_code(&support::browser(), gh, &url, email).await;
    (support::query_param(&back, "code").unwrap(), verifier)
}

async fn error_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

async fn unregistered_redirect_uri_gets_a_page_not_a_redirect(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (url, _) = good_request(gh, &client, &[("redirect_uri", "https://evil.example/cb")]);
    let resp = support::browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("This sign-in link is not valid"));
}

/// RFC 8252 §7.3: a native app's loopback IP redirect URI may name any port at request time;
/// the code is bound to the URI with that port, and nothing but the port may differ.
async fn a_loopback_redirect_uri_may_name_another_port(gh: &Gatehouse) {
    let registered = support::create_client(gh, &[]); // http://127.0.0.1:9/callback
    let app = TestClient { redirect_uri: "http://127.0.0.1:49152/callback".into(), ..registered.clone() };
    support::create_user(gh, "native@example.org");
    let (url, verifier) = good_request(gh, &app, &[]);
    let back = support::sign_in_for_code(&support::browser(), gh, &url, "native@example.org").await;
    assert!(back.starts_with("http://127.0.0.1:49152/callback?"), "{back}");
    let code = support::query_param(&back, "code").unwrap();
    // Redeemed with the registered port instead: not the URI the code was issued for.
    let (status, error) = error_of(support::redeem(gh, &registered, &code, &verifier).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));

    let (url, verifier) = good_request(gh, &app, &[]);
    let back = support::sign_in_for_code(&support::browser(), gh, &url, "native@example.org").await;
    let code = support::query_param(&back, "code").unwrap();
    assert_eq!(support::redeem(gh, &app, &code, &verifier).await.status(), 200);

    // Another path on the loopback address is still unregistered.
    let (url, _) = good_request(gh, &app, &[("redirect_uri", "http://127.0.0.1:49152/elsewhere")]);
    let resp = support::browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

async fn unknown_client_gets_a_page_not_a_redirect(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (url, _) = good_request(gh, &client, &[("client_id", "no-such-client")]);
    let resp = support::browser().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

/// RFC 9700 §4.11.2: the error goes to the registered redirect URI, but only once the citizen
/// has signed in; the sign-in pages come first and return to the same (failing) request.
async fn unsupported_response_type_redirects_with_error_and_state_after_sign_in(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "srt@example.org");
    let (url, _) = good_request(gh, &client, &[("response_type", "token")]);
    let http = support::browser();
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let first = support::location(&resp);
    assert!(first.starts_with("/signin?continue="), "no redirect to the client before sign-in: {first}");

    let to = support::sign_in_for_code(&http, gh, &url, "srt@example.org").await;
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("unsupported_response_type"));
    assert_eq!(support::query_param(&to, "state").as_deref(), Some("xyz"));
    assert!(support::query_param(&to, "error_description").is_some());
    assert!(support::query_param(&to, "code").is_none());
    // Signed in now: the same request is answered at once.
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("unsupported_response_type"), "{to}");
}

async fn missing_pkce_is_refused(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "pkce@example.org");
    let http = support::browser();
    let (url, _) = good_request(gh, &client, &[("code_challenge", ""), ("code_challenge_method", "")]);
    let to = support::sign_in_for_code(&http, gh, &url, "pkce@example.org").await;
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
    assert_eq!(support::query_param(&to, "state").as_deref(), Some("xyz"));
    // The plain method is refused too (RFC 9700 §2.1.1).
    let (url, _) = good_request(gh, &client, &[("code_challenge_method", "plain")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
}

async fn prompt_none_without_session_is_login_required(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (url, _) = good_request(gh, &client, &[("prompt", "none")]);
    let to = support::location(&support::browser().get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("login_required"), "{to}");
}

async fn replayed_code_is_invalid_grant_and_revokes_its_tokens(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (code, verifier) = code_for(gh, &client, "replay@example.org").await;
    let first = support::redeem(gh, &client, &code, &verifier).await;
    assert_eq!(first.status(), 200);
    let tokens: serde_json::Value = first.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = |token: String| {
        let url = format!("{}/userinfo", gh.base_url);
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status() }
    };
    assert_eq!(userinfo(access.clone()).await, 200);

    let (status, error) = error_of(support::redeem(gh, &client, &code, &verifier).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
    // RFC 6749 §4.1.2: the tokens issued from the replayed code are revoked.
    assert_eq!(userinfo(access).await, 401);
}

async fn wrong_verifier_is_invalid_grant(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (code, _) = code_for(gh, &client, "verifier@example.org").await;
    let (other, _) = testkit::pkce::pair();
    let (status, error) = error_of(support::redeem(gh, &client, &code, &other).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
}

async fn bad_client_secret_is_invalid_client_401(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (code, verifier) = code_for(gh, &client, "secret@example.org").await;
    let wrong = TestClient { secret: Some("wrong".into()), ..client };
    let resp = support::redeem(gh, &wrong, &code, &verifier).await;
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (_, error) = error_of(resp).await;
    assert_eq!(error, "invalid_client");
}

async fn malformed_token_requests_are_invalid_request(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/token", gh.base_url))
        .basic_auth(&client.id, client.secret.as_deref())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await, (400, "invalid_request".into()));
    let resp = http
        .post(format!("{}/token", gh.base_url))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[("grant_type", "password"), ("username", "a"), ("password", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await, (400, "unsupported_grant_type".into()));
}

async fn userinfo_refuses_missing_and_forged_tokens(gh: &Gatehouse) {
    let http = reqwest::Client::new();
    let resp = http.get(format!("{}/userinfo", gh.base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer realm=\"gatehouse\"");
    let resp = http
        .get(format!("{}/userinfo", gh.base_url))
        .bearer_auth("eyJhbGciOiJub25lIn0.e30.")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
}

crate::on_both_backends!(
    unregistered_redirect_uri_gets_a_page_not_a_redirect,
    unknown_client_gets_a_page_not_a_redirect,
    a_loopback_redirect_uri_may_name_another_port,
    unsupported_response_type_redirects_with_error_and_state_after_sign_in,
    missing_pkce_is_refused,
    prompt_none_without_session_is_login_required,
    replayed_code_is_invalid_grant_and_revokes_its_tokens,
    wrong_verifier_is_invalid_grant,
    bad_client_secret_is_invalid_client_401,
    malformed_token_requests_are_invalid_request,
    userinfo_refuses_missing_and_forged_tokens,
);
