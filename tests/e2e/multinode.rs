//! Three gatehouse processes on one PostgreSQL database, one issuer and one master key, as
//! behind a load balancer: one citizen's flow hops between them — authorize on the first,
//! token on the second, refresh on the third, logout on the first — and every node honours
//! what another node did.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use testkit::Gatehouse;

use crate::support::{self, PASSWORD};

const BYE: &str = "http://127.0.0.1:9/bye";

async fn node(database: &str, master: &str, issuer: Option<&str>) -> Gatehouse {
    let mut builder =
        Gatehouse::builder(support::bin()).database(database).env("GATEHOUSE_KEYS__MASTER_KEY", master);
    if let Some(issuer) = issuer {
        builder = builder.env("GATEHOUSE_ISSUER", issuer);
    }
    builder.start().await
}

/// `/authorize` on `gh` with `prompt=none` for the browser's session: the portal redirect.
async fn authorize(
    gh: &Gatehouse,
    http: &reqwest::Client,
    client: &support::TestClient,
    challenge: &str,
) -> String {
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email offline_access"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ],
    );
    support::location(&http.get(url).send().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_flow_hops_across_three_nodes() {
    let database = testkit::fresh_database_url();
    let master = URL_SAFE_NO_PAD.encode([9u8; 32]);
    let first = node(&database, &master, None).await;
    let issuer = first.base_url.clone();
    let second = node(&database, &master, Some(&issuer)).await;
    let third = node(&database, &master, Some(&issuer)).await;
    let email = "nina@example.org";
    support::create_user(&first, email);
    let client = support::create_client(
        &second,
        &[
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--post-logout-redirect-uri",
            BYE,
        ],
    );

    // Sign in and authorize on the first node.
    let http = support::browser();
    let body = json!({ "email": email, "password": PASSWORD });
    let resp = http.post(first.url("/api/v1/signin/password")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (verifier, challenge) = testkit::pkce::pair();
    let back = authorize(&first, &http, &client, &challenge).await;
    let code = support::query_param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));

    // Redeem on the second.
    let resp = support::redeem(&second, &client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Refresh on the third; the refreshed access token works at the first.
    let (status, refreshed) = crate::tokens::refresh(&third, &client, &refresh_token, None).await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().unwrap();
    let userinfo =
        reqwest::Client::new().get(first.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);
    // The spent refresh token is spent on every node.
    let (status, _) = crate::tokens::refresh(&first, &client, &refresh_token, None).await;
    assert_eq!(status, 400, "reuse is refused on another node too");

    // Log out on the first; the second and third no longer see the session.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "s"),
        ])
        .finish();
    let resp = http.get(first.url(&format!("/logout?{query}"))).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(support::location(&resp), format!("{BYE}?state=s"));
    for gh in [&second, &third] {
        let back = authorize(gh, &http, &client, &challenge).await;
        assert_eq!(support::query_param(&back, "error").as_deref(), Some("login_required"), "{back}");
    }
}
