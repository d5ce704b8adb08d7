//! What an upstream sign-in leaves behind: "Keep me signed in" carried by the provider buttons
//! (over HTTP and in Chromium, where Enter in the email field must still mean "Next"), and a
//! refresh token that keeps the original authentication's `idp`, `amr` and `auth_time`.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use testkit::Browser;

use super::{Federated, Provider, UPSTREAM_EMAIL, claims, setup};
use crate::browser::{button, expect_heading, field, portal};
use crate::support::{self, Backend, PASSWORD};

/// The `Set-Cookie` header that sets `name`.
fn set_cookie(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

async fn keep_me_signed_in_rides_with_the_provider_button(backend: Backend) {
    let f = setup(backend, Provider::Google, &[]).await;
    for keep in [true, false] {
        let http = support::browser();
        let (upstream, _) = f.start_from(&http, "Google", f.authorize(), keep).await;
        let callback = f.upstream_sign_in(&http, &upstream, UPSTREAM_EMAIL).await;
        let resp = http.get(&callback).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let session = set_cookie(&resp, "gatehouse_session");
        // Ticked: a persistent cookie, as for a password sign-in; unticked: a session cookie.
        let persistent = session.contains("Max-Age=") || session.contains("Expires=");
        assert_eq!(persistent, keep, "keep={keep}: {session}");
    }
    // The buttons submit the page's form: its CSRF token is checked.
    let http = support::browser();
    let resp = http
        .post(f.gh.url("/federation/google/start"))
        .form(&[("csrf", "forged"), ("keep", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("This page has expired"));
}

async fn a_refreshed_id_token_keeps_the_upstream_idp_amr_and_auth_time(backend: Backend) {
    let mut f = setup(backend, Provider::Google, &[]).await;
    f.portal = crate::tokens::refreshing_client(&f.gh);
    let http = support::browser();
    let request = f.authorize_for("openid email offline_access");
    let (upstream, verifier) = f.start_from(&http, "Google", request, false).await;
    let callback = f.upstream_sign_in(&http, &upstream, UPSTREAM_EMAIL).await;
    let resp = http.get(&callback).send().await.unwrap();
    let resp = http.get(f.gh.url(&support::location(&resp))).send().await.unwrap();
    let landed = support::location(&resp);
    let code = support::query_param(&landed, "code").unwrap_or_else(|| panic!("no code: {landed}"));
    let first: serde_json::Value =
        support::redeem(&f.gh, &f.portal, &code, &verifier).await.json().await.unwrap();
    let first_id = claims(first["id_token"].as_str().unwrap());
    assert_eq!(first_id["idp"], "google", "{first_id}");
    assert_eq!(first_id["amr"], serde_json::json!(["fed", "pwd"]));

    let token = first["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh token: {first}"));
    let (status, second) = crate::tokens::refresh(&f.gh, &f.portal, token, None).await;
    assert_eq!(status, 200, "{second}");
    let refreshed = claims(second["id_token"].as_str().unwrap());
    // OIDC Core §12.2: a refreshed ID token describes the original authentication.
    for claim in ["idp", "amr", "auth_time", "sub", "sid"] {
        assert_eq!(refreshed[claim], first_id[claim], "{claim}: {refreshed}");
    }
    assert!(refreshed.get("nonce").is_none());
}

crate::per_backend!(
    keep_me_signed_in_rides_with_the_provider_button,
    a_refreshed_id_token_keeps_the_upstream_idp_amr_and_auth_time,
);

/// The sign-in test's portal, registered with the gatehouse under test.
fn chromium_portal(f: &mut Federated) -> String {
    let redirect_uri = portal();
    let out = f.gh.cli_json(&["client", "create", "--name", "ATLCORE", "--redirect-uri", &redirect_uri]);
    f.portal = support::TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().map(str::to_owned),
        redirect_uri: redirect_uri.clone(),
    };
    redirect_uri
}

/// The identifier-first guide in Chromium, no script anywhere: tick "Keep me signed in", click
/// "Sign in with Google", sign in at the provider, and the session cookie gatehouse sets at the
/// callback outlives the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_keeps_a_federated_sign_in_when_asked() {
    let mut f = setup(Backend::Sqlite, Provider::Google, &[]).await;
    let redirect_uri = chromium_portal(&mut f);
    let (url, _) = f.authorize();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    expect_heading(c, "Sign in").await;
    field(c, "Keep me signed in").await.click().await.unwrap();
    button(c, "Sign in with Google").await.click().await.unwrap();

    expect_heading(c, "Sign in").await;
    assert!(c.current_url().await.unwrap().as_str().starts_with(&f.upstream_url));
    field(c, "Email address").await.send_keys(UPSTREAM_EMAIL).await.unwrap();
    button(c, "Next").await.click().await.unwrap();
    expect_heading(c, "Verify it's you with a security method").await;
    let row = c.find(Locator::XPath("//li[.//*[normalize-space()='Password']]")).await.unwrap();
    row.find(Locator::XPath(".//button[normalize-space()='Select']")).await.unwrap().click().await.unwrap();
    expect_heading(c, "Verify with your password").await;
    field(c, "Password").await.send_keys(PASSWORD).await.unwrap();
    button(c, "Verify").await.click().await.unwrap();
    testkit::wait_for_url_prefix(c, &redirect_uri, Duration::from_secs(15)).await;

    // The portal is on gatehouse's host (127.0.0.1, another port), whose cookies it sees.
    let session = c.get_named_cookie("gatehouse_session").await.expect("a gatehouse session cookie");
    let expires = session.expires_datetime().expect("a persistent cookie (Max-Age), not a session one");
    let in_a_day = time_now() + 24 * 3600;
    assert!(expires.unix_timestamp() > in_a_day, "{session:?}");
    browser.close().await;
}

fn time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// With the provider buttons in the same form, Enter in "Email address" must still mean
/// "Next" (the form's hidden default button), not "Sign in with Google"; and an unticked box
/// gives a federated sign-in a cookie that ends with the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_enter_in_the_email_field_means_next() {
    let mut f = setup(Backend::Sqlite, Provider::Google, &[]).await;
    let redirect_uri = chromium_portal(&mut f);
    let (url, _) = f.authorize();
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    expect_heading(c, "Sign in").await;
    let enter: char = Key::Enter.into();
    field(c, "Email address").await.send_keys(&format!("someone@example.org{enter}")).await.unwrap();
    expect_heading(c, "Verify it's you with a security method").await;
    assert!(c.current_url().await.unwrap().as_str().starts_with(&f.gh.url("/signin/identify")));

    // Back, and Google without the box: a session cookie.
    c.goto(&url).await.unwrap();
    expect_heading(c, "Sign in").await;
    button(c, "Sign in with Google").await.click().await.unwrap();
    expect_heading(c, "Sign in").await;
    field(c, "Email address").await.send_keys(&format!("{UPSTREAM_EMAIL}{enter}")).await.unwrap();
    expect_heading(c, "Verify it's you with a security method").await;
    let row = c.find(Locator::XPath("//li[.//*[normalize-space()='Password']]")).await.unwrap();
    row.find(Locator::XPath(".//button[normalize-space()='Select']")).await.unwrap().click().await.unwrap();
    expect_heading(c, "Verify with your password").await;
    field(c, "Password").await.send_keys(PASSWORD).await.unwrap();
    button(c, "Verify").await.click().await.unwrap();
    testkit::wait_for_url_prefix(c, &redirect_uri, Duration::from_secs(15)).await;
    let session = c.get_named_cookie("gatehouse_session").await.expect("a gatehouse session cookie");
    assert_eq!(session.expires(), None, "a session cookie: {session:?}");
    browser.close().await;
}
