//! "Sign in with Google" end to end, with no internet: a SECOND gatehouse is the upstream
//! OpenID provider. It is reached as `http://localhost:PORT` (its issuer), the gatehouse under
//! test as `http://127.0.0.1:PORT`, so a browser keeps their cookies apart as it would two
//! sites'. The gatehouse under test is configured with
//! `GATEHOUSE_FEDERATION__GOOGLE__ISSUER=<upstream>` and a client registered upstream whose
//! redirect URI is its `/federation/google/callback`.

use base64::Engine;
use testkit::{Gatehouse, SmtpSink};

use crate::support::{self, Backend, PASSWORD, TestClient};

const UPSTREAM_EMAIL: &str = "ole.upstream@gmail.example";

pub struct Federated {
    pub upstream: Gatehouse,
    /// The upstream's issuer, as browsers and gatehouse reach it.
    pub upstream_url: String,
    pub gh: Gatehouse,
    /// A portal registered with the gatehouse under test.
    pub portal: TestClient,
    /// `google`, or the generic provider's name.
    pub provider: &'static str,
}

pub enum Provider {
    Google,
    /// Pointed at a single-tenant issuer (the second gatehouse): the exact-issuer rule. The
    /// `common` endpoint's `{tenantid}` template is unit-tested in `federation::issuer`.
    Microsoft,
    /// `[federation.oidc.city]`, label "City ID".
    City,
}

pub async fn setup(backend: Backend, provider: Provider, extra: &[(&str, &str)]) -> Federated {
    let up_port = testkit::free_port();
    let upstream_url = format!("http://localhost:{up_port}");
    let upstream =
        Gatehouse::builder(support::bin()).port(up_port).env("GATEHOUSE_ISSUER", &upstream_url).start().await;
    support::create_user(&upstream, UPSTREAM_EMAIL);

    let gh_port = testkit::free_port();
    let (name, prefix) = match provider {
        Provider::Google => ("google", "GATEHOUSE_FEDERATION__GOOGLE__"),
        Provider::Microsoft => ("microsoft", "GATEHOUSE_FEDERATION__MICROSOFT__"),
        Provider::City => ("city", "GATEHOUSE_FEDERATION__OIDC__CITY__"),
    };
    let callback = format!("http://127.0.0.1:{gh_port}/federation/{name}/callback");
    let out = upstream.cli_json(&["client", "create", "--name", "gatehouse", "--redirect-uri", &callback]);
    let mut builder = Gatehouse::builder(support::bin())
        .port(gh_port)
        .env(format!("{prefix}CLIENT_ID"), out["client_id"].as_str().unwrap())
        .env(format!("{prefix}CLIENT_SECRET"), out["client_secret"].as_str().unwrap())
        .env(format!("{prefix}ISSUER"), &upstream_url);
    if matches!(provider, Provider::City) {
        builder = builder.env(format!("{prefix}LABEL"), "City ID");
    }
    if matches!(backend, Backend::Postgres) {
        builder = builder.database(testkit::fresh_database_url());
    }
    for (k, v) in extra {
        builder = builder.env(*k, *v);
    }
    let gh = builder.start().await;
    let portal = support::create_client(&gh, &[]);
    Federated { upstream, upstream_url, gh, portal, provider: name }
}

impl Federated {
    /// The portal's authorization request: (URL, PKCE verifier).
    pub fn authorize(&self) -> (String, String) {
        self.authorize_for("openid email profile")
    }

    /// [`Self::authorize`] for `scope`.
    pub fn authorize_for(&self, scope: &str) -> (String, String) {
        let (verifier, challenge) = testkit::pkce::pair();
        let url = support::authorize_url(
            &self.gh,
            &[
                ("response_type", "code"),
                ("client_id", &self.portal.id),
                ("redirect_uri", &self.portal.redirect_uri),
                ("scope", scope),
                ("state", "portal-state"),
                ("nonce", "portal-nonce"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        (url, verifier)
    }

    /// Portal → "Sign in" page (which must show `button`) → the button → the upstream's
    /// authorization URL. Returns it and the portal's PKCE verifier.
    pub async fn start(&self, http: &reqwest::Client, button: &str) -> (String, String) {
        self.start_from(http, button, self.authorize(), false).await
    }

    /// [`Self::start`] from the authorization request `(url, verifier)`: the button submits the
    /// sign-in page's form, with "Keep me signed in" ticked when `keep`.
    pub async fn start_from(
        &self,
        http: &reqwest::Client,
        button: &str,
        (url, verifier): (String, String),
        keep: bool,
    ) -> (String, String) {
        let resp = http.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 302);
        let html =
            http.get(self.gh.url(&support::location(&resp))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!(">Sign in with {button}</button>")) && html.contains("OR"), "{html}");
        assert!(html.contains("You will not be able to log in using other options after the initial log in"));
        // The button belongs to the form that holds "Keep me signed in" (no script needed).
        let action = format!("formaction=\"/federation/{}/start\" formmethod=\"post\"", self.provider);
        assert!(html.contains(&action), "{html}");
        let continue_to = support::hidden(&html, "continue");
        let csrf = support::hidden(&html, "csrf");
        let mut form = vec![("csrf", csrf.as_str()), ("continue", continue_to.as_str()), ("email", "")];
        if keep {
            form.push(("keep", "1"));
        }
        let start = format!("/federation/{}/start", self.provider);
        let resp = http.post(self.gh.url(&start)).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
        let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.starts_with("gatehouse_federation=") && cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        let upstream = support::location(&resp);
        assert!(upstream.starts_with(&format!("{}/authorize?", self.upstream_url)), "{upstream}");
        for param in ["state", "nonce", "code_challenge"] {
            assert!(
                support::query_param(&upstream, param).is_some_and(|v| v.len() >= 43),
                "{param}: {upstream}"
            );
        }
        assert_eq!(support::query_param(&upstream, "code_challenge_method").as_deref(), Some("S256"));
        (upstream, verifier)
    }

    /// Signs in upstream with a password; returns the callback URL the upstream redirects to.
    pub async fn upstream_sign_in(
        &self,
        http: &reqwest::Client,
        upstream_authorize: &str,
        email: &str,
    ) -> String {
        let resp = support::sign_in_at(http, &self.upstream_url, upstream_authorize, email, PASSWORD).await;
        assert_eq!(resp.status(), 303, "the upstream accepts the password");
        let resp =
            http.get(format!("{}{}", self.upstream_url, support::location(&resp))).send().await.unwrap();
        assert_eq!(resp.status(), 302);
        let callback = support::location(&resp);
        assert!(
            callback.starts_with(&self.gh.url(&format!("/federation/{}/callback?", self.provider))),
            "{callback}"
        );
        callback
    }

    /// The whole way for `email`: back at the portal with a code, redeemed. Returns (ID token
    /// claims, userinfo).
    pub async fn sign_in(&self, button: &str, email: &str) -> (serde_json::Value, serde_json::Value) {
        let http = support::browser();
        let (upstream, verifier) = self.start(&http, button).await;
        let callback = self.upstream_sign_in(&http, &upstream, email).await;
        let resp = http.get(&callback).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
        let back = support::location(&resp);
        assert!(back.starts_with("/authorize?"), "{back}");
        let resp = http.get(self.gh.url(&back)).send().await.unwrap();
        let landed = support::location(&resp);
        assert!(landed.starts_with(&self.portal.redirect_uri), "{landed}");
        assert_eq!(support::query_param(&landed, "state").as_deref(), Some("portal-state"));
        self.redeem(&support::query_param(&landed, "code").unwrap(), &verifier).await
    }

    pub async fn redeem(&self, code: &str, verifier: &str) -> (serde_json::Value, serde_json::Value) {
        let resp = support::redeem(&self.gh, &self.portal, code, verifier).await;
        assert_eq!(resp.status(), 200);
        let tokens: serde_json::Value = resp.json().await.unwrap();
        let id_token = claims(tokens["id_token"].as_str().unwrap());
        let userinfo = reqwest::Client::new()
            .get(self.gh.url("/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (id_token, userinfo)
    }
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

async fn google_sign_in_reaches_the_portal_with_the_upstream_email(backend: Backend) {
    let f = setup(backend, Provider::Google, &[]).await;
    let (id_token, userinfo) = f.sign_in("Google", UPSTREAM_EMAIL).await;
    assert_eq!(userinfo["email"], UPSTREAM_EMAIL);
    assert_eq!(userinfo["email_verified"], true);
    assert_eq!(userinfo["name"], "Ole Mae");
    assert_eq!(id_token["idp"], "google", "{id_token}");
    // "fed", then the upstream's own `amr` (it signed the citizen in with a password).
    assert_eq!(id_token["amr"], serde_json::json!(["fed", "pwd"]));
    // A second sign-in finds the linked account again.
    let (again, _) = f.sign_in("Google", UPSTREAM_EMAIL).await;
    assert_eq!(again["sub"], id_token["sub"]);
    let users = f.gh.cli_json(&["user", "list"]);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
}

async fn microsoft_sign_in_reaches_the_portal_with_the_upstream_email(backend: Backend) {
    let f = setup(backend, Provider::Microsoft, &[]).await;
    let (id_token, userinfo) = f.sign_in("Microsoft", UPSTREAM_EMAIL).await;
    assert_eq!(userinfo["email"], UPSTREAM_EMAIL);
    assert_eq!(userinfo["email_verified"], true);
    assert_eq!(id_token["idp"], "microsoft", "{id_token}");
}

async fn a_generic_provider_works_by_settings_alone(backend: Backend) {
    let f = setup(backend, Provider::City, &[]).await;
    let html = reqwest::get(f.gh.url("/signin")).await.unwrap().text().await.unwrap();
    assert!(!html.contains("Sign in with Google"), "only configured providers have a button");
    let (id_token, userinfo) = f.sign_in("City ID", UPSTREAM_EMAIL).await;
    assert_eq!(userinfo["email"], UPSTREAM_EMAIL);
    assert_eq!(id_token["idp"], "city");
}

async fn first_method_binding_refuses_the_other_method_both_ways(backend: Backend) {
    let sink = SmtpSink::start();
    let smtp = sink.url();
    let f = setup(
        backend,
        Provider::Google,
        &[("GATEHOUSE_MAIL__TRANSPORT", "smtp"), ("GATEHOUSE_MAIL__SMTP_URL", smtp.as_str())],
    )
    .await;
    // A password account: its Google sign-in is refused, naming the email method.
    support::create_user(&f.gh, UPSTREAM_EMAIL);
    let http = support::browser();
    let (upstream, _) = f.start(&http, "Google").await;
    let callback = f.upstream_sign_in(&http, &upstream, UPSTREAM_EMAIL).await;
    let resp = http.get(&callback).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Use the way you signed in before") && html.contains("signs in with its email address"),
        "{html}"
    );
    assert!(html.contains("Back to sign in"), "{html}");

    // A Google account: an emailed code is refused, naming Google with its button.
    let second = "second.upstream@gmail.example";
    support::create_user(&f.upstream, second);
    let (id_token, _) = f.sign_in("Google", second).await;
    assert_eq!(id_token["idp"], "google");
    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &f.gh.url("/signin")).await;
    let form = [("csrf", csrf.as_str()), ("email", second), ("method", "email")];
    let (status, _) = support::post_form(&http, f.gh.url("/signin/method"), &form).await;
    assert_eq!(status, 200);
    let code = sink.wait_for(second, std::time::Duration::from_secs(10)).await.six_digit_code();
    let form = [("csrf", csrf.as_str()), ("email", second), ("code", code.as_str())];
    let (status, html) = support::post_form(&http, f.gh.url("/signin/code"), &form).await;
    assert_eq!(status, 403, "{html}");
    assert!(
        html.contains("this account signs in with Google") && html.contains(">Sign in with Google</button>"),
        "{html}"
    );
}

async fn link_mode_links_a_password_account_and_audits_it(backend: Backend) {
    let f =
        setup(backend, Provider::Google, &[("GATEHOUSE_ACCOUNTS__METHOD_BINDING", "link-verified-email")])
            .await;
    let local = support::create_user(&f.gh, UPSTREAM_EMAIL);
    let (id_token, _) = f.sign_in("Google", UPSTREAM_EMAIL).await;
    assert_eq!(id_token["sub"], local.as_str(), "the existing account signs in");
    let sql = format!("SELECT kind || '|' || detail FROM audit_events WHERE account_id = '{local}'");
    let trail = match f.gh.database_url.strip_prefix("sqlite://") {
        Some(path) => {
            let out = std::process::Command::new("sqlite3").args([path, &sql]).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        }
        None => testkit::psql(&f.gh.database_url, &sql),
    };
    assert!(trail.contains("account.upstream_linked|{\"provider\":\"google\"}"), "{trail}");
    // The password still works: linking adds a way in, it removes none.
    let (status, _) = support::password_sign_in(&f.gh, &support::browser(), UPSTREAM_EMAIL, PASSWORD).await;
    assert_eq!(status, 200);
}

crate::per_backend!(
    google_sign_in_reaches_the_portal_with_the_upstream_email,
    microsoft_sign_in_reaches_the_portal_with_the_upstream_email,
    a_generic_provider_works_by_settings_alone,
    first_method_binding_refuses_the_other_method_both_ways,
    link_mode_links_a_password_account_and_audits_it,
);

#[path = "federation_failures.rs"]
mod failures;
#[path = "federation_session.rs"]
mod session;
