//! Every way an upstream sign-in can stop ends on a friendly page with "Back to sign in",
//! logged, never a 500; and "Sign in with Google" in headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use testkit::Browser;

use super::{Federated, Provider, UPSTREAM_EMAIL, setup};
use crate::browser::{button, expect_heading, field, portal};
use crate::support::{self, Backend, PASSWORD};

/// GETs `url` and returns (status, page), asserting the page is a friendly one.
async fn page(http: &reqwest::Client, url: &str) -> (u16, String) {
    let resp = http.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let html = resp.text().await.unwrap();
    assert_ne!(status, 500, "{html}");
    assert!(html.contains("Back to sign in"), "{html}");
    (status, html)
}

fn callback(f: &Federated, query: &str) -> String {
    f.gh.url(&format!("/federation/{}/callback?{query}", f.provider))
}

async fn cancelled_forged_reused_and_foreign_callbacks_end_on_pages(backend: Backend) {
    let f = setup(backend, Provider::Google, &[]).await;
    let http = support::browser();

    // The citizen presses "Cancel" upstream: RFC 6749 §4.1.2.1 access_denied.
    let (upstream, _) = f.start(&http, "Google").await;
    let state = support::query_param(&upstream, "state").unwrap();
    let (status, html) = page(&http, &callback(&f, &format!("error=access_denied&state={state}"))).await;
    assert_eq!(status, 400);
    assert!(html.contains("Sign-in cancelled"), "{html}");
    assert!(html.contains("/signin?continue=%2Fauthorize"), "back to the pending request: {html}");

    // The same state again: used once already.
    let (_, html) = page(&http, &callback(&f, &format!("code=x&state={state}"))).await;
    assert!(html.contains("already used or was started in another browser"), "{html}");
    // A state nobody issued, and none at all.
    let (_, html) = page(&http, &callback(&f, "code=x&state=forged")).await;
    assert!(html.contains("already used"), "{html}");
    page(&http, &callback(&f, "code=x")).await;

    // The upstream reports an error.
    let (upstream, _) = f.start(&http, "Google").await;
    let state = support::query_param(&upstream, "state").unwrap();
    let (_, html) = page(&http, &callback(&f, &format!("error=server_error&state={state}"))).await;
    assert!(html.contains("Google could not sign you in"), "{html}");

    // A real code, but the callback arrives in another browser (no binding cookie).
    let (upstream, _) = f.start(&http, "Google").await;
    let back = f.upstream_sign_in(&http, &upstream, UPSTREAM_EMAIL).await;
    let (status, html) = page(&support::browser(), &back).await;
    assert_eq!(status, 400);
    assert!(html.contains("started in another browser"), "{html}");

    // The authorization request was tampered with (another nonce): the ID token's nonce does
    // not match the flow's, so it is refused (OIDC Core §3.1.3.7 step 11). A fresh browser:
    // this one is signed in upstream already.
    let http = support::browser();
    let (upstream, _) = f.start(&http, "Google").await;
    let nonce = support::query_param(&upstream, "nonce").unwrap();
    let forged = upstream.replace(&format!("nonce={nonce}"), "nonce=forged-nonce");
    let back = f.upstream_sign_in(&http, &forged, UPSTREAM_EMAIL).await;
    let (status, html) = page(&http, &back).await;
    assert_eq!(status, 400);
    assert!(html.contains("sent an answer we cannot trust"), "{html}");
    let log = f.gh.stderr();
    assert!(log.contains("invalid ID token") && log.contains("upstream sign-in failed"), "{log}");
    let users = f.gh.cli_json(&["user", "list"]);
    assert_eq!(users.as_array().map(Vec::len), Some(0), "no failure created an account: {users}");
}

async fn an_expired_flow_ends_on_a_page(backend: Backend) {
    let f = setup(backend, Provider::Google, &[("GATEHOUSE_FEDERATION__FLOW_TTL_SECS", "1")]).await;
    let http = support::browser();
    let (upstream, _) = f.start(&http, "Google").await;
    let back = f.upstream_sign_in(&http, &upstream, UPSTREAM_EMAIL).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, html) = page(&http, &back).await;
    assert!(html.contains("Signing in took too long"), "{html}");
}

/// An upstream that does not answer neither stops gatehouse from starting nor breaks its
/// pages: the button leads to a page saying so, within the timeout.
async fn an_unreachable_upstream_ends_on_a_page(backend: Backend) {
    let closed = format!("http://127.0.0.1:{}", testkit::free_port());
    let gh = support::start_with(
        backend,
        &[
            ("GATEHOUSE_FEDERATION__GOOGLE__CLIENT_ID", "gatehouse"),
            ("GATEHOUSE_FEDERATION__GOOGLE__ISSUER", &closed),
            ("GATEHOUSE_FEDERATION__HTTP_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let http = support::browser();
    let html = http.get(gh.url("/signin")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Sign in with Google</button>"), "{html}");
    let started = std::time::Instant::now();
    let (status, html) = page(&http, &gh.url("/federation/google/start?continue=%2Fprofile")).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status, 502);
    assert!(
        html.contains("We could not reach the provider") && html.contains("Google did not answer"),
        "{html}"
    );
    assert!(gh.stderr().contains("upstream unreachable"), "{}", gh.stderr());
    // An unknown provider is a page too.
    let (status, _) = page(&http, &gh.url("/federation/facebook/start")).await;
    assert_eq!(status, 404);
}

crate::per_backend!(
    cancelled_forged_reused_and_foreign_callbacks_end_on_pages,
    an_expired_flow_ends_on_a_page,
    an_unreachable_upstream_ends_on_a_page,
);

/// The first-edition guide in Chromium: "Sign in with Google", sign in at the provider, and
/// back at the portal with a code whose tokens carry the provider's email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_signs_in_with_google() {
    let mut f = setup(Backend::Sqlite, Provider::Google, &[]).await;
    let redirect_uri = portal();
    let out = f.gh.cli_json(&["client", "create", "--name", "ATLCORE", "--redirect-uri", &redirect_uri]);
    f.portal = support::TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().map(str::to_owned),
        redirect_uri: redirect_uri.clone(),
    };
    let (url, verifier) = f.authorize();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    expect_heading(c, "Sign in").await;
    button(c, "Sign in with Google").await.click().await.unwrap();

    // At the provider (the upstream gatehouse): its own hosted sign-in.
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

    let landed = testkit::wait_for_url_prefix(c, &redirect_uri, Duration::from_secs(15)).await;
    assert_eq!(support::query_param(landed.as_str(), "state").as_deref(), Some("portal-state"));
    let code = support::query_param(landed.as_str(), "code").expect("a code at the portal");
    let (id_token, userinfo) = f.redeem(&code, &verifier).await;
    assert_eq!(userinfo["email"], UPSTREAM_EMAIL);
    assert_eq!(id_token["idp"], "google");
    browser.close().await;
}
