//! The authorization endpoint beyond the basic flow: consent for third-party clients, prompt,
//! max_age and id_token_hint, the claims parameter, response_mode=form_post, and pushed
//! authorization requests (RFC 9126).

use base64::Engine;
use serde_json::Value;
use testkit::Gatehouse;

use crate::support::{self, PASSWORD, TestClient};

/// An authorization URL for `client` with `scope` and extra parameters, and its PKCE verifier.
pub(crate) fn request(
    gh: &Gatehouse,
    client: &TestClient,
    scope: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = testkit::pkce::pair();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", scope),
        ("state", "st-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    (support::authorize_url(gh, &params), verifier)
}

/// Signs in through the pages and follows the way back to `/authorize`, returning that answer.
pub(crate) async fn sign_in_and_return(
    http: &reqwest::Client,
    gh: &Gatehouse,
    url: &str,
    email: &str,
) -> reqwest::Response {
    let resp = support::sign_in(http, gh, url, email, PASSWORD).await;
    assert_eq!(resp.status(), 303, "a right password returns to the authorization endpoint");
    http.get(format!("{}{}", gh.base_url, support::location(&resp))).send().await.unwrap()
}

/// Answers a consent page ("allow" or "deny") and returns the redirect back to the portal.
pub(crate) async fn answer_consent(
    http: &reqwest::Client,
    gh: &Gatehouse,
    html: &str,
    decision: &str,
) -> String {
    let csrf = support::hidden(html, "csrf");
    let continue_to = support::hidden(html, "continue");
    let resp = http
        .post(format!("{}/authorize/consent", gh.base_url))
        .form(&[("csrf", csrf.as_str()), ("continue", &continue_to), ("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    support::location(&resp)
}

fn assert_consent_page(html: &str, lines: &[&str]) {
    assert!(html.contains("Allow 311 to use your account?"), "{html}");
    assert!(html.contains(">Allow<") && html.contains(">Deny<"), "{html}");
    // ASVS 5.0 10.7.2: how long what is granted lasts.
    assert!(
        html.contains("You can remove this access at any time under Connected portals in your profile."),
        "{html}"
    );
    for line in lines {
        assert!(html.contains(line), "{line} missing from {html}");
    }
}

/// The payload of a compact JWT.
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Redeems the code in `back` and returns the token response.
pub(crate) async fn tokens(gh: &Gatehouse, client: &TestClient, back: &str, verifier: &str) -> Value {
    let code = support::query_param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let resp = support::redeem(gh, client, &code, verifier).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn third_party_consent_is_asked_remembered_and_asked_again_for_more(gh: &Gatehouse) {
    let client = support::create_client(gh, &["--third-party"]);
    support::create_user(gh, "tp@example.org");
    let http = support::browser();
    let (url, verifier) = request(gh, &client, "openid email", &[]);
    let resp = sign_in_and_return(&http, gh, &url, "tp@example.org").await;
    assert_eq!(resp.status(), 200, "a third-party client's request shows the consent page");
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = resp.text().await.unwrap();
    assert_consent_page(&html, &["Know who you are when you sign in", "See your email address"]);
    let back = answer_consent(&http, gh, &html, "allow").await;
    assert!(back.starts_with(&client.redirect_uri), "{back}");
    assert_eq!(support::query_param(&back, "state").as_deref(), Some("st-1"));
    tokens(gh, &client, &back, &verifier).await;

    // Remembered: the same scopes again go straight back with a code.
    let (url, _) = request(gh, &client, "openid email", &[]);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(support::query_param(&support::location(&resp), "code").is_some());

    // A scope not yet allowed asks again, and allowing it keeps the others.
    let (url, _) = request(gh, &client, "openid email profile", &[]);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert_consent_page(&html, &["See your name"]);
    let back = answer_consent(&http, gh, &html, "allow").await;
    assert!(support::query_param(&back, "code").is_some(), "{back}");
    for scope in ["openid email", "openid profile", "openid email profile"] {
        let (url, _) = request(gh, &client, scope, &[("prompt", "none")]);
        let to = support::location(&http.get(&url).send().await.unwrap());
        assert!(support::query_param(&to, "code").is_some(), "{scope}: {to}");
    }
}

async fn deny_returns_access_denied_with_state(gh: &Gatehouse) {
    let client = support::create_client(gh, &["--third-party"]);
    support::create_user(gh, "deny@example.org");
    let http = support::browser();
    let (url, _) = request(gh, &client, "openid", &[]);
    let html = sign_in_and_return(&http, gh, &url, "deny@example.org").await.text().await.unwrap();
    let back = answer_consent(&http, gh, &html, "deny").await;
    assert!(back.starts_with(&client.redirect_uri), "{back}");
    assert_eq!(support::query_param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(support::query_param(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(support::query_param(&back, "iss").as_deref(), Some(gh.base_url.as_str()));
    // Nothing was remembered: the next request asks again.
    let (url, _) = request(gh, &client, "openid", &[]);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    // A consent form without its CSRF token is refused.
    let resp = http
        .post(format!("{}/authorize/consent", gh.base_url))
        .form(&[
            ("csrf", "forged"),
            ("continue", support::hidden(&html, "continue").as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

async fn first_party_skips_consent_but_prompt_consent_asks(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "fp@example.org");
    let http = support::browser();
    let (url, _) = request(gh, &client, "openid email", &[]);
    let back = support::sign_in_for_code(&http, gh, &url, "fp@example.org").await;
    assert!(support::query_param(&back, "code").is_some(), "{back}");
    let (url, verifier) = request(gh, &client, "openid email", &[("prompt", "consent")]);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "prompt=consent asks even for a first-party client");
    let html = resp.text().await.unwrap();
    assert_consent_page(&html, &["See your email address"]);
    let back = answer_consent(&http, gh, &html, "allow").await;
    tokens(gh, &client, &back, &verifier).await;
}

async fn prompt_none_is_login_required_then_consent_required(gh: &Gatehouse) {
    let third = support::create_client(gh, &["--third-party"]);
    support::create_user(gh, "none@example.org");
    let http = support::browser();
    let (url, _) = request(gh, &third, "openid", &[("prompt", "none")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("login_required"), "{to}");
    let (status, _) = support::password_sign_in(gh, &http, "none@example.org", PASSWORD).await;
    assert_eq!(status, 200);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("consent_required"), "{to}");
    assert_eq!(support::query_param(&to, "state").as_deref(), Some("st-1"));
    // prompt=none with anything else is invalid_request (OIDC Core §3.1.2.1).
    let (url, _) = request(gh, &third, "openid", &[("prompt", "none consent")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
}

async fn max_age_forces_a_new_sign_in_and_auth_time_tells(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "age@example.org");
    let http = support::browser();
    let (url, verifier) = request(gh, &client, "openid", &[]);
    let back = support::sign_in_for_code(&http, gh, &url, "age@example.org").await;
    let first = payload(tokens(gh, &client, &back, &verifier).await["id_token"].as_str().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    // A session older than max_age: prompt=none cannot help, and otherwise the pages show.
    let (url, _) = request(gh, &client, "openid", &[("max_age", "1"), ("prompt", "none")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("login_required"), "{to}");
    let (url, verifier) = request(gh, &client, "openid", &[("max_age", "1")]);
    let back = support::sign_in_for_code(&http, gh, &url, "age@example.org").await;
    let second = payload(tokens(gh, &client, &back, &verifier).await["id_token"].as_str().unwrap());
    let (t1, t2) = (first["auth_time"].as_i64().unwrap(), second["auth_time"].as_i64().unwrap());
    assert!(t2 >= t1 + 2, "auth_time is the new sign-in's: {t1} then {t2}");
    // A generous max_age uses the session.
    let (url, _) = request(gh, &client, "openid", &[("max_age", "3600")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert!(support::query_param(&to, "code").is_some(), "{to}");
}

async fn id_token_hint_must_name_the_signed_in_account(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let ada = support::create_user(gh, "ada@example.org");
    support::create_user(gh, "bob@example.org");
    let http = support::browser();
    let (url, verifier) = request(gh, &client, "openid", &[]);
    let back = support::sign_in_for_code(&http, gh, &url, "ada@example.org").await;
    let hint = tokens(gh, &client, &back, &verifier).await["id_token"].as_str().unwrap().to_owned();
    assert_eq!(payload(&hint)["sub"], ada.as_str());

    let (url, _) = request(gh, &client, "openid", &[("prompt", "none"), ("id_token_hint", &hint)]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert!(support::query_param(&to, "code").is_some(), "the hint names the signed-in account: {to}");

    // Bob signs in in this browser: a hint naming Ada no longer matches.
    let (status, _) = support::password_sign_in(gh, &http, "bob@example.org", PASSWORD).await;
    assert_eq!(status, 200);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("login_required"), "{to}");
    let (url, _) = request(gh, &client, "openid", &[("id_token_hint", &hint)]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert!(to.starts_with("/signin?"), "without prompt=none Ada is asked to sign in: {to}");
    assert!(!to.contains("id_token_hint"), "the return trip drops the hint: {to}");

    let (url, _) = request(gh, &client, "openid", &[("id_token_hint", "not-a-token")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
}

async fn claims_parameter_puts_requested_claims_in_the_id_token_and_userinfo(gh: &Gatehouse) {
    let client = support::create_client(gh, &["--scope", "email", "--scope", "profile"]);
    support::create_user(gh, "claims@example.org");
    let http = support::browser();
    let claims = r#"{"id_token":{"email":null,"phone_number":{"essential":true}},"userinfo":{"name":null}}"#;
    let (url, verifier) = request(gh, &client, "openid", &[("claims", claims)]);
    let back = support::sign_in_for_code(&http, gh, &url, "claims@example.org").await;
    let body = tokens(gh, &client, &back, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "claims@example.org");
    assert!(id.get("phone_number").is_none(), "phone is not a scope this client may have");
    assert!(id.get("name").is_none(), "name was asked of userinfo only");
    assert_eq!(body["scope"], "openid");
    let info: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", gh.base_url))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "Ole Mae");
    assert!(info.get("email").is_none(), "email was asked of the ID token only: {info}");

    let (url, _) = request(gh, &client, "openid", &[("claims", "{not json")]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
}

async fn form_post_posts_code_state_and_iss_to_the_redirect_uri(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "form@example.org");
    let http = support::browser();
    let (url, verifier) = request(gh, &client, "openid", &[("response_mode", "form_post")]);
    let resp = sign_in_and_return(&http, gh, &url, "form@example.org").await;
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("<form method=\"post\" action=\"{}\">", client.redirect_uri)), "{html}");
    assert!(html.contains("<noscript>") && html.contains(">Continue<"), "{html}");
    assert_eq!(support::hidden(&html, "state"), "st-1");
    assert_eq!(support::hidden(&html, "iss"), gh.base_url);
    let code = support::hidden(&html, "code");
    let resp = support::redeem(gh, &client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);

    // Errors are posted too.
    let (url, _) = request(gh, &client, "openid", &[("response_mode", "form_post"), ("prompt", "none")]);
    let html = support::browser().get(&url).send().await.unwrap().text().await.unwrap();
    assert_eq!(support::hidden(&html, "error"), "login_required");
    assert_eq!(support::hidden(&html, "state"), "st-1");
}

/// Pushes an authorization request for `client` (HTTP Basic with `secret`).
async fn push(gh: &Gatehouse, client: &TestClient, secret: &str, challenge: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/par", gh.base_url))
        .basic_auth(&client.id, Some(secret))
        .form(&[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("scope", "openid email"),
            ("state", "par-state"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
}

fn par_url(gh: &Gatehouse, client: &TestClient, request_uri: &str) -> String {
    support::authorize_url(gh, &[("client_id", client.id.as_str()), ("request_uri", request_uri)])
}

async fn pushed_request_signs_in_once_and_is_single_use(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "par@example.org");
    let (verifier, challenge) = testkit::pkce::pair();
    let resp = push(gh, &client, client.secret.as_deref().unwrap(), &challenge).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{request_uri}");
    assert_eq!(body["expires_in"], 60);

    let http = support::browser();
    let url = par_url(gh, &client, &request_uri);
    let back = support::sign_in_for_code(&http, gh, &url, "par@example.org").await;
    assert_eq!(support::query_param(&back, "state").as_deref(), Some("par-state"), "{back}");
    let body = tokens(gh, &client, &back, &verifier).await;
    assert!(body["scope"].as_str().unwrap().contains("email"));

    // Used once: the same request_uri is refused, with a page (no trusted redirect).
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("expired or was already used"));

    // Parameters outside the pushed request may repeat it but not change it (RFC 9126 §4).
    let (_, challenge) = testkit::pkce::pair();
    let uri =
        push(gh, &client, client.secret.as_deref().unwrap(), &challenge).await.json::<Value>().await.unwrap()
            ["request_uri"]
            .as_str()
            .unwrap()
            .to_owned();
    let url = support::authorize_url(
        gh,
        &[
            ("client_id", client.id.as_str()),
            ("request_uri", &uri),
            ("scope", "openid"),
            ("response_type", "code"),
        ],
    );
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
    assert_eq!(support::query_param(&to, "state").as_deref(), Some("par-state"));
}

/// RFC 9700 §4.11.2 for a pushed request: the citizen signs in before the error is sent, and
/// the way back carries a new single-use request_uri with the same differing parameter.
async fn a_pushed_request_changed_beside_its_request_uri_fails_after_sign_in(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "par-err@example.org");
    let (_, challenge) = testkit::pkce::pair();
    let body: Value =
        push(gh, &client, client.secret.as_deref().unwrap(), &challenge).await.json().await.unwrap();
    let uri = body["request_uri"].as_str().unwrap();
    let url = support::authorize_url(
        gh,
        &[("client_id", client.id.as_str()), ("request_uri", uri), ("scope", "openid")],
    );
    let http = support::browser();
    // sign_in checks that the first answer is the sign-in page, not the client.
    let resp = support::sign_in(&http, gh, &url, "par-err@example.org", PASSWORD).await;
    assert_eq!(resp.status(), 303);
    let back = format!("{}{}", gh.base_url, support::location(&resp));
    let again = support::query_param(&back, "request_uri").unwrap();
    assert_ne!(again, uri, "the spent request_uri is not reused");
    assert_eq!(support::query_param(&back, "scope").as_deref(), Some("openid"), "{back}");
    let resp = http.get(&back).send().await.unwrap();
    let to = support::location(&resp);
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
    assert_eq!(support::query_param(&to, "state").as_deref(), Some("par-state"), "{to}");
}

async fn an_expired_pushed_request_is_refused(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (_, challenge) = testkit::pkce::pair();
    let body: Value =
        push(gh, &client, client.secret.as_deref().unwrap(), &challenge).await.json().await.unwrap();
    // Sixty seconds pass, as far as the database can tell.
    let sql = "UPDATE pushed_requests SET expires_at = created_at - 1";
    match gh.database_url.strip_prefix("sqlite://") {
        Some(path) => {
            let out = std::process::Command::new("sqlite3").args([path, sql]).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        None => {
            testkit::psql(&gh.database_url, sql);
        }
    }
    let resp = support::browser()
        .get(par_url(gh, &client, body["request_uri"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

async fn a_client_requiring_par_is_refused_without_it(gh: &Gatehouse) {
    let client = support::create_client(gh, &["--require-par"]);
    support::create_user(gh, "needs-par@example.org");
    let listed = gh.cli_json(&["client", "list"]);
    assert_eq!(listed[0]["require_pushed_authorization_requests"], true);
    let (url, _) = request(gh, &client, "openid", &[]);
    let to = support::sign_in_for_code(&support::browser(), gh, &url, "needs-par@example.org").await;
    assert!(to.starts_with(&client.redirect_uri), "{to}");
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
    let (_, challenge) = testkit::pkce::pair();
    let body: Value =
        push(gh, &client, client.secret.as_deref().unwrap(), &challenge).await.json().await.unwrap();
    let resp = support::browser()
        .get(par_url(gh, &client, body["request_uri"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert!(support::location(&resp).starts_with("/signin?"), "a pushed request goes on to sign-in");
}

async fn a_pushed_request_with_a_wrong_secret_or_a_bad_request_is_refused(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let (_, challenge) = testkit::pkce::pair();
    let resp = push(gh, &client, "wrong-secret", &challenge).await;
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // Validated as /authorize would: no PKCE challenge is invalid_request, as JSON.
    let resp = push(gh, &client, client.secret.as_deref().unwrap(), "").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

async fn discovery_advertises_form_post_claims_and_par(gh: &Gatehouse) {
    let doc: Value = reqwest::get(format!("{}/.well-known/openid-configuration", gh.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["response_modes_supported"], serde_json::json!(["query", "form_post"]));
    assert_eq!(doc["pushed_authorization_request_endpoint"], format!("{}/par", gh.base_url));
    assert_eq!(doc["require_pushed_authorization_requests"], false);
    assert_eq!(doc["claims_parameter_supported"], true);
    assert!(doc["prompt_values_supported"].as_array().unwrap().contains(&"consent".into()));
}

crate::on_both_backends!(
    third_party_consent_is_asked_remembered_and_asked_again_for_more,
    deny_returns_access_denied_with_state,
    first_party_skips_consent_but_prompt_consent_asks,
    prompt_none_is_login_required_then_consent_required,
    max_age_forces_a_new_sign_in_and_auth_time_tells,
    id_token_hint_must_name_the_signed_in_account,
    claims_parameter_puts_requested_claims_in_the_id_token_and_userinfo,
    form_post_posts_code_state_and_iss_to_the_redirect_uri,
    pushed_request_signs_in_once_and_is_single_use,
    a_pushed_request_changed_beside_its_request_uri_fails_after_sign_in,
    an_expired_pushed_request_is_refused,
    a_client_requiring_par_is_refused_without_it,
    a_pushed_request_with_a_wrong_secret_or_a_bad_request_is_refused,
    discovery_advertises_form_post_claims_and_par,
);
