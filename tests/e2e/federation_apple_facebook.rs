//! "Sign in with Apple" and "Sign in with Facebook" end to end, with no internet: fakes on
//! loopback play Apple and Facebook as documented and check what gatehouse sends
//! (`upstream_fakes`). The test plays the browser: it follows redirects by hand and submits
//! the form Apple answers with, as a browser would.

use std::sync::atomic::Ordering;

use testkit::Gatehouse;

use crate::federation::enc;
use crate::support::{self, Backend, TestClient};
use crate::upstream_fakes::{self as fakes, FakeApple, FakeFacebook};

struct Setup {
    gh: Gatehouse,
    portal: TestClient,
    apple: FakeApple,
    facebook: FakeFacebook,
}

async fn setup(backend: Backend, fb_secret: &str, extra: &[(&str, &str)]) -> Setup {
    setup_on(backend, fb_secret, extra, None).await
}

/// [`setup`], with gatehouse on `port` and `issuer` when given (the browser test's
/// `http://localhost:PORT`).
async fn setup_on(
    backend: Backend,
    fb_secret: &str,
    extra: &[(&str, &str)],
    at: Option<(u16, &str)>,
) -> Setup {
    let (apple, facebook) = (fakes::apple(), fakes::facebook());
    let fb = |path: &str| format!("{}{path}", facebook.base);
    let mut env = vec![
        ("GATEHOUSE_FEDERATION__APPLE__CLIENT_ID".to_owned(), fakes::APPLE_CLIENT.to_owned()),
        ("GATEHOUSE_FEDERATION__APPLE__TEAM_ID".into(), fakes::APPLE_TEAM.into()),
        ("GATEHOUSE_FEDERATION__APPLE__KEY_ID".into(), fakes::APPLE_KEY_ID.into()),
        ("GATEHOUSE_FEDERATION__APPLE__PRIVATE_KEY".into(), apple.private_key_pem.clone()),
        ("GATEHOUSE_FEDERATION__APPLE__ISSUER".into(), apple.issuer.clone()),
        ("GATEHOUSE_FEDERATION__FACEBOOK__CLIENT_ID".into(), fakes::FB_APP.into()),
        ("GATEHOUSE_FEDERATION__FACEBOOK__CLIENT_SECRET".into(), fb_secret.into()),
        ("GATEHOUSE_FEDERATION__FACEBOOK__AUTHORIZE_URL".into(), fb("/dialog/oauth")),
        ("GATEHOUSE_FEDERATION__FACEBOOK__TOKEN_URL".into(), fb("/oauth/access_token")),
        ("GATEHOUSE_FEDERATION__FACEBOOK__GRAPH_URL".into(), facebook.base.clone()),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let gh = match at {
        None => {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            support::start_with(backend, &env).await
        }
        Some((port, issuer)) => {
            let mut builder =
                testkit::Gatehouse::builder(support::bin()).port(port).env("GATEHOUSE_ISSUER", issuer);
            if matches!(backend, Backend::Postgres) {
                builder = builder.database(testkit::fresh_database_url());
            }
            for (k, v) in &env {
                builder = builder.env(k.as_str(), v.as_str());
            }
            builder.start().await
        }
    };
    let portal = support::create_client(&gh, &[]);
    Setup { gh, portal, apple, facebook }
}

impl Setup {
    /// Portal → "Sign in" page → "Sign in with {label}": the upstream URL, the portal's
    /// PKCE verifier, and the sign-in page.
    async fn start(&self, http: &reqwest::Client, provider: &str) -> (String, String, String) {
        let (verifier, challenge) = testkit::pkce::pair();
        let url = support::authorize_url(
            &self.gh,
            &[
                ("response_type", "code"),
                ("client_id", &self.portal.id),
                ("redirect_uri", &self.portal.redirect_uri),
                ("scope", "openid email profile"),
                ("state", "portal-state"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let resp = http.get(&url).send().await.unwrap();
        let page =
            http.get(self.gh.url(&support::location(&resp))).send().await.unwrap().text().await.unwrap();
        let continue_to = support::hidden(&page, "continue");
        let start = format!("/federation/{provider}/start?continue={}", enc(&continue_to));
        let resp = http.get(self.gh.url(&start)).send().await.unwrap();
        assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
        let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/federation"), "{cookie}");
        (support::location(&resp), verifier, page)
    }

    /// Back at `/authorize` after a callback's 303: the portal's code, redeemed; the userinfo
    /// and the ID token's claims.
    async fn land(
        &self,
        http: &reqwest::Client,
        resp: reqwest::Response,
        verifier: &str,
    ) -> (serde_json::Value, serde_json::Value) {
        assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
        let resp = http.get(self.gh.url(&support::location(&resp))).send().await.unwrap();
        let landed = support::location(&resp);
        assert!(landed.starts_with(&self.portal.redirect_uri), "{landed}");
        let code = support::query_param(&landed, "code").unwrap();
        let tokens: serde_json::Value =
            support::redeem(&self.gh, &self.portal, &code, verifier).await.json().await.unwrap();
        let userinfo = reqwest::Client::new()
            .get(self.gh.url("/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (userinfo, payload(tokens["id_token"].as_str().unwrap()))
    }

    /// Signs in with Apple: Apple answers a page whose form the browser POSTs back.
    async fn apple_sign_in(&self, expect_user: bool) -> (serde_json::Value, serde_json::Value) {
        let http = support::browser();
        let (upstream, verifier, _) = self.start(&http, "apple").await;
        assert!(upstream.starts_with(&format!("{}/auth/authorize?", self.apple.issuer)), "{upstream}");
        let form = http.get(&upstream).send().await.unwrap().text().await.unwrap();
        let action = form.split("action=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        assert_eq!(action, self.gh.url("/federation/apple/callback"));
        let mut fields =
            vec![("code", support::hidden(&form, "code")), ("state", support::hidden(&form, "state"))];
        assert_eq!(form.contains("name=\"user\""), expect_user, "{form}");
        if expect_user {
            fields.push(("user", support::hidden(&form, "user")));
        }
        let resp = http.post(&action).form(&fields).send().await.unwrap();
        self.land(&http, resp, &verifier).await
    }

    /// Signs in with Facebook; returns the callback's response.
    async fn facebook_callback(&self, http: &reqwest::Client) -> (reqwest::Response, String) {
        let (upstream, verifier, _) = self.start(http, "facebook").await;
        assert!(upstream.starts_with(&format!("{}/dialog/oauth?", self.facebook.base)), "{upstream}");
        let resp = http.get(&upstream).send().await.unwrap();
        let callback = support::location(&resp);
        assert!(callback.starts_with(&self.gh.url("/federation/facebook/callback?")), "{callback}");
        (http.get(&callback).send().await.unwrap(), verifier)
    }
}

fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn apple_form_post_sign_in_keeps_the_first_authorizations_name(backend: Backend) {
    let s = setup(backend, fakes::FB_SECRET, &[]).await;
    let (userinfo, id_token) = s.apple_sign_in(true).await;
    assert_eq!(userinfo["email"], fakes::APPLE_EMAIL, "a relay address is a normal email");
    assert_eq!(userinfo["email_verified"], true, "Apple's \"true\" string counts");
    assert_eq!(userinfo["name"], "Ole Apple", "{userinfo}");
    assert_eq!((id_token["idp"].as_str(), id_token["amr"][0].as_str()), (Some("apple"), Some("fed")));
    // Apple sends no `user` the second time: the account keeps the name.
    let (again, again_token) = s.apple_sign_in(false).await;
    assert_eq!(again["name"], "Ole Apple", "{again}");
    assert_eq!(again_token["sub"], id_token["sub"]);
    assert_eq!(s.apple.verified_token_requests.load(Ordering::SeqCst), 2, "every client secret was checked");
}

async fn facebook_needs_a_shared_email_then_reaches_the_portal(backend: Backend) {
    let s = setup(backend, fakes::FB_SECRET, &[]).await;
    // The person declines the email permission: a clear page, not a crash.
    s.facebook.share_email.store(false, Ordering::SeqCst);
    let (resp, _) = s.facebook_callback(&support::browser()).await;
    assert_eq!(resp.status(), 403);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Facebook did not share an email address") && html.contains("Back to sign in"),
        "{html}"
    );

    s.facebook.share_email.store(true, Ordering::SeqCst);
    let http = support::browser();
    let (resp, verifier) = s.facebook_callback(&http).await;
    let (userinfo, id_token) = s.land(&http, resp, &verifier).await;
    assert_eq!(userinfo["email"], "ole.fb@example.org");
    assert_eq!(userinfo["name"], "Ole Facebook");
    assert_eq!(id_token["idp"], "facebook");
    assert_eq!(
        s.facebook.proofs_ok.load(Ordering::SeqCst),
        2,
        "every Graph call carried a right appsecret_proof"
    );
}

async fn a_wrong_facebook_app_secret_ends_on_an_upstream_error_page(backend: Backend) {
    let s = setup(backend, "not-the-app-secret", &[]).await;
    for strict_token_endpoint in [true, false] {
        // Not strict: the code exchange passes and the Graph API refuses the appsecret_proof.
        s.facebook.check_secret.store(strict_token_endpoint, Ordering::SeqCst);
        let (resp, _) = s.facebook_callback(&support::browser()).await;
        let status = resp.status().as_u16();
        let html = resp.text().await.unwrap();
        assert_eq!(status, 400, "{html}");
        assert!(
            html.contains("Facebook could not sign you in") && html.contains("Back to sign in"),
            "{html}"
        );
    }
    assert_eq!(s.facebook.proofs_ok.load(Ordering::SeqCst), 0);
}

async fn buttons_follow_the_guides_order(backend: Backend) {
    // Google and Microsoft are never contacted before a click, so any issuer does.
    let nowhere = "http://127.0.0.1:9";
    let s = setup(
        backend,
        fakes::FB_SECRET,
        &[
            ("GATEHOUSE_FEDERATION__GOOGLE__CLIENT_ID", "g"),
            ("GATEHOUSE_FEDERATION__GOOGLE__ISSUER", nowhere),
            ("GATEHOUSE_FEDERATION__MICROSOFT__CLIENT_ID", "m"),
            ("GATEHOUSE_FEDERATION__MICROSOFT__ISSUER", nowhere),
            ("GATEHOUSE_FEDERATION__OIDC__CITY__LABEL", "City ID"),
            ("GATEHOUSE_FEDERATION__OIDC__CITY__ISSUER", nowhere),
            ("GATEHOUSE_FEDERATION__OIDC__CITY__CLIENT_ID", "c"),
        ],
    )
    .await;
    let (_, _, page) = s.start(&support::browser(), "apple").await;
    let at = |label: &str| {
        page.find(&format!(">Sign in with {label}</button>")).unwrap_or_else(|| panic!("{label}: {page}"))
    };
    let order = ["Google", "Apple", "Microsoft", "Facebook", "City ID"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

crate::per_backend!(
    apple_form_post_sign_in_keeps_the_first_authorizations_name,
    facebook_needs_a_shared_email_then_reaches_the_portal,
    a_wrong_facebook_app_secret_ends_on_an_upstream_error_page,
    buttons_follow_the_guides_order,
);

/// Apple's `response_mode=form_post` in Chromium, across sites as with the real Apple: gatehouse
/// at `http://localhost:PORT`, the fake Apple at `http://127.0.0.1:PORT2` (another site to the
/// browser), whose page auto-submits a POST of `code`, `state` and `user` to gatehouse's
/// callback. Lax cookies do not ride on a cross-site POST; the binding cookie of an Apple flow
/// is `SameSite=None; Secure`, which Chromium takes from `http://localhost` because loopback
/// is a secure context, as it takes it from an https issuer in production. With a Lax binding
/// cookie this test ends on "We could not sign you in" (docs/federation.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_completes_apples_cross_site_form_post() {
    use std::time::Duration;
    let port = testkit::free_port();
    let issuer = format!("http://localhost:{port}");
    let mut s = setup_on(Backend::Sqlite, fakes::FB_SECRET, &[], Some((port, &issuer))).await;
    assert!(s.apple.issuer.starts_with("http://127.0.0.1:"), "Apple must be another site");
    let redirect_uri = crate::browser::portal();
    let out = s.gh.cli_json(&["client", "create", "--name", "ATLCORE", "--redirect-uri", &redirect_uri]);
    s.portal = TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().map(str::to_owned),
        redirect_uri: redirect_uri.clone(),
    };
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        &s.gh,
        &[
            ("response_type", "code"),
            ("client_id", &s.portal.id),
            ("redirect_uri", &redirect_uri),
            ("scope", "openid email profile"),
            ("state", "portal-state"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .replace(&s.gh.base_url, &issuer);

    let browser = testkit::Browser::start().await;
    let c = &browser.client;
    c.goto(&url).await.unwrap();
    crate::browser::expect_heading(c, "Sign in").await;
    crate::browser::button(c, "Sign in with Apple").await.click().await.unwrap();
    // Apple's page posts back by itself; gatehouse finds the flow and returns to the portal.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let landed = loop {
        let now = c.current_url().await.unwrap();
        if now.as_str().starts_with(&redirect_uri) {
            break now;
        }
        if std::time::Instant::now() > deadline {
            let page = c.source().await.unwrap_or_default();
            panic!("browser still at {now}:\n{page}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let code = support::query_param(landed.as_str(), "code").expect("a code at the portal");
    let tokens: serde_json::Value =
        support::redeem(&s.gh, &s.portal, &code, &verifier).await.json().await.unwrap();
    let id_token = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["idp"], "apple", "{id_token}");
    assert_eq!(s.apple.verified_token_requests.load(Ordering::SeqCst), 1);
    browser.close().await;
}
