//! Logout end to end: single sign-on across two portals, RP-initiated logout (OpenID Connect
//! RP-Initiated Logout 1.0) with and without an `id_token_hint`, and back-channel logout
//! (Back-Channel Logout 1.0) to a small HTTP server on loopback that plays portal B.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use serde_json::Value;
use testkit::Gatehouse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::{self, TestClient};

const EMAIL: &str = "ole@example.org";
const BYE: &str = "http://127.0.0.1:9/bye";

/// A portal with its own redirect URI, registered through the CLI.
pub(crate) fn portal(gh: &Gatehouse, name: &str, extra: &[&str]) -> TestClient {
    let redirect_uri = format!("http://127.0.0.1:9/{name}/callback");
    let mut args = vec!["client", "create", "--name", name, "--redirect-uri", &redirect_uri];
    args.extend_from_slice(extra);
    let out = gh.cli_json(&args);
    TestClient {
        id: out["client_id"].as_str().unwrap().to_owned(),
        secret: out["client_secret"].as_str().map(str::to_owned),
        redirect_uri,
    }
}

/// An authorization URL for `client` and its PKCE verifier.
pub(crate) fn authorize(gh: &Gatehouse, client: &TestClient) -> (String, String) {
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid"),
            ("state", "st"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    (url, verifier)
}

/// Exchanges the code in a redirect back to `client` for its ID token.
async fn id_token(gh: &Gatehouse, client: &TestClient, back: &str, verifier: &str) -> String {
    assert!(back.starts_with(&client.redirect_uri), "{back}");
    let code = support::query_param(back, "code").expect("a code");
    let resp = support::redeem(gh, client, &code, verifier).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["id_token"].as_str().unwrap().to_owned()
}

/// Signs in for `client` through the pages; returns its ID token.
async fn sign_in(gh: &Gatehouse, http: &reqwest::Client, client: &TestClient) -> String {
    let (url, verifier) = authorize(gh, client);
    let back = support::sign_in_for_code(http, gh, &url, EMAIL).await;
    id_token(gh, client, &back, &verifier).await
}

/// Single sign-on: the session answers `client`'s request with a code, no page. Its ID token.
async fn sso(gh: &Gatehouse, http: &reqwest::Client, client: &TestClient) -> String {
    let (url, verifier) = authorize(gh, client);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    id_token(gh, client, &support::location(&resp), &verifier).await
}

/// Whether the browser still has a session: `/authorize` for `client` answers with a code.
pub(crate) async fn signed_in(gh: &Gatehouse, http: &reqwest::Client, client: &TestClient) -> bool {
    let (url, _) = authorize(gh, client);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let to = support::location(&resp);
    assert!(to.starts_with(&client.redirect_uri) || to.starts_with("/signin?"), "{to}");
    to.starts_with(&client.redirect_uri)
}

fn logout_url(gh: &Gatehouse, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{}/logout?{query}", gh.base_url)
}

pub(crate) fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let decode = |p: &str| -> Value { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap() };
    (decode(parts.next().unwrap()), decode(parts.next().unwrap()))
}

async fn single_sign_on_then_logout_with_a_hint_redirects_with_state_and_ends_the_session(gh: &Gatehouse) {
    let a = portal(gh, "atlcore", &["--post-logout-redirect-uri", BYE]);
    let b = portal(gh, "311", &[]);
    support::create_user(gh, EMAIL);
    let http = support::browser();
    let hint = sign_in(gh, &http, &a).await;
    let b_token = sso(gh, &http, &b).await;
    assert_eq!(jwt_parts(&hint).1["sid"], jwt_parts(&b_token).1["sid"], "one session, one sid");

    let resp = http
        .get(logout_url(
            gh,
            &[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE), ("state", "bye 1")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "the hint names this session: no question asked");
    assert_eq!(support::location(&resp), format!("{BYE}?state=bye+1"));
    assert!(!signed_in(gh, &http, &b).await, "B's next request needs a sign-in");

    // The same request again, with no session left: still a redirect (nothing to end).
    let resp = http
        .post(format!("{}/logout", gh.base_url))
        .form(&[("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", BYE), ("state", "s2")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(support::location(&resp), format!("{BYE}?state=s2"));
}

async fn an_unregistered_post_logout_redirect_uri_is_an_error_page_and_no_redirect(gh: &Gatehouse) {
    let a = portal(gh, "atlcore", &["--post-logout-redirect-uri", BYE]);
    support::create_user(gh, EMAIL);
    let http = support::browser();
    let hint = sign_in(gh, &http, &a).await;
    for (params, why) in [
        (
            vec![("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", "https://evil.example/")],
            "unregistered",
        ),
        (
            vec![("client_id", a.id.as_str()), ("post_logout_redirect_uri", "http://127.0.0.1:9/bye/")],
            "not exact",
        ),
        (vec![("post_logout_redirect_uri", BYE)], "no client"),
        (vec![("id_token_hint", "not-a-token")], "bad hint"),
        (vec![("id_token_hint", hint.as_str()), ("client_id", "someone-else")], "client mismatch"),
        (vec![("client_id", "no-such-client")], "unknown client"),
    ] {
        let resp = http.get(logout_url(gh, &params)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{why}");
        assert!(resp.headers().get("location").is_none(), "{why}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("This sign-out link is not valid"), "{why}: {html}");
    }
    assert!(signed_in(gh, &http, &a).await, "nothing was signed out");
}

async fn a_logout_without_a_hint_asks_first_and_signing_out_there_works(gh: &Gatehouse) {
    let a = portal(gh, "atlcore", &["--post-logout-redirect-uri", BYE]);
    support::create_user(gh, EMAIL);
    let http = support::browser();
    sign_in(gh, &http, &a).await;

    // A bare GET from another site signs no one out (logout CSRF).
    let resp = http.get(format!("{}/logout", gh.base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<h1>Sign out?</h1>") && html.contains(">Sign out</button>"), "{html}");
    assert!(signed_in(gh, &http, &a).await);
    let csrf = support::hidden(&html, "csrf");
    let (status, _) =
        support::post_form(&http, format!("{}/logout/confirm", gh.base_url), &[("csrf", "forged")]).await;
    assert_eq!(status, 403);
    assert!(signed_in(gh, &http, &a).await);
    let (status, html) =
        support::post_form(&http, format!("{}/logout/confirm", gh.base_url), &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(html.contains("You are signed out"), "{html}");
    assert!(!signed_in(gh, &http, &a).await);

    // client_id and a registered URI without a hint: asked, then sent back with the state.
    sso_or_sign_in(gh, &http, &a).await;
    let resp = http
        .get(logout_url(gh, &[("client_id", &a.id), ("post_logout_redirect_uri", BYE), ("state", "x")]))
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("atlcore asks to sign you out"), "{html}");
    let form: Vec<(String, String)> = ["csrf", "client_id", "post_logout_redirect_uri", "state"]
        .iter()
        .map(|n| ((*n).to_owned(), support::hidden(&html, n)))
        .collect();
    let resp = http.post(format!("{}/logout/confirm", gh.base_url)).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(support::location(&resp), format!("{BYE}?state=x"));
    assert!(!signed_in(gh, &http, &a).await);
}

async fn sso_or_sign_in(gh: &Gatehouse, http: &reqwest::Client, client: &TestClient) {
    if !signed_in(gh, http, client).await {
        sign_in(gh, http, client).await;
    }
}

/// A portal's back-channel logout endpoint on loopback: answers each POST with the next status
/// of `statuses` (then 200) and hands the test each request's headers and body.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) requests: mpsc::UnboundedReceiver<(String, String)>,
}

impl Receiver {
    pub(crate) async fn start(statuses: Vec<u16>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
        let (tx, requests) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut answered = 0;
            while let Ok((mut socket, _)) = listener.accept().await {
                let request = read_request(&mut socket).await;
                let status = statuses.get(answered).copied().unwrap_or(200);
                answered += 1;
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
                let _ = tx.send(request);
            }
        });
        Receiver { url, requests }
    }

    /// The next logout token received, within `within`.
    pub(crate) async fn next_token(&mut self, within: Duration) -> String {
        let (head, body) = tokio::time::timeout(within, self.requests.recv())
            .await
            .expect("a back-channel logout arrives in time")
            .unwrap();
        assert!(head.starts_with("POST /backchannel "), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("content-type: application/x-www-form-urlencoded"),
            "{head}"
        );
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        assert_eq!(pairs.len(), 1, "{body}");
        assert_eq!(pairs[0].0, "logout_token");
        pairs[0].1.clone()
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return (String::from_utf8_lossy(&buf).into_owned(), String::new());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return (head, String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned());
            }
        }
    }
}

/// Checks a logout token as a portal must (Back-Channel Logout §2.6): the signature against
/// gatehouse's JWKS, `typ`, and the claims. Returns the claims.
async fn verified_logout_token(gh: &Gatehouse, token: &str, client: &TestClient, id_token: &str) -> Value {
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(header["alg"], "RS256", "signed like the client's ID tokens");
    let jwks: CoreJsonWebKeySet =
        reqwest::get(gh.url("/.well-known/jwks.json")).await.unwrap().json().await.unwrap();
    let kid = header["kid"].as_str().unwrap();
    let key =
        jwks.keys().iter().find(|k| k.key_id().is_some_and(|id| id.as_str() == kid)).expect("kid in JWKS");
    let (signed, signature) = token.rsplit_once('.').unwrap();
    key.verify_signature(
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        signed.as_bytes(),
        &URL_SAFE_NO_PAD.decode(signature).unwrap(),
    )
    .expect("the logout token's signature verifies against the JWKS");

    let (_, id_claims) = jwt_parts(id_token);
    assert_eq!(claims["iss"], gh.base_url.as_str());
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(
        claims["events"],
        serde_json::json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert!(claims.get("nonce").is_none(), "§2.4: no nonce");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!(exp > iat && exp - iat <= 300, "a short-lived token: {iat}..{exp}");
    claims
}

async fn backchannel_logout_tells_portal_b_with_a_signed_token(gh: &Gatehouse) {
    let mut receiver = Receiver::start(vec![]).await;
    let a = portal(gh, "atlcore", &["--post-logout-redirect-uri", BYE]);
    let b = portal(gh, "311", &["--backchannel-logout-uri", &receiver.url]);
    support::create_user(gh, EMAIL);
    let http = support::browser();
    let hint = sign_in(gh, &http, &a).await;
    let b_token = sso(gh, &http, &b).await;

    let resp = http.get(logout_url(gh, &[("id_token_hint", &hint)])).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("You are signed out"));
    let token = receiver.next_token(Duration::from_secs(10)).await;
    verified_logout_token(gh, &token, &b, &b_token).await;
    assert!(
        tokio::time::timeout(Duration::from_secs(3), receiver.requests.recv()).await.is_err(),
        "delivered once: A has no back-channel URI, B answered 200"
    );
}

async fn a_failing_backchannel_endpoint_gets_the_token_on_a_retry(gh: &Gatehouse) {
    let mut receiver = Receiver::start(vec![500]).await;
    let b = portal(gh, "311", &["--backchannel-logout-uri", &receiver.url]);
    let out = gh.cli_json(&["client", "list"]);
    assert_eq!(out[0]["backchannel_logout_uri"], receiver.url.as_str());
    assert_eq!(out[0]["backchannel_logout_session_required"], true);
    support::create_user(gh, EMAIL);
    let http = support::browser();
    let b_token = sign_in(gh, &http, &b).await;

    // Signing out through the JSON API ends the session too.
    let resp = http.delete(format!("{}/api/v1/session", gh.base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let first = receiver.next_token(Duration::from_secs(10)).await;
    let first = verified_logout_token(gh, &first, &b, &b_token).await;
    // Answered 500: retried after the back-off (5 s), with a fresh token.
    let second = receiver.next_token(Duration::from_secs(20)).await;
    let second = verified_logout_token(gh, &second, &b, &b_token).await;
    assert_ne!(first["jti"], second["jti"]);
}

async fn discovery_advertises_logout(gh: &Gatehouse) {
    let doc: Value =
        reqwest::get(gh.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["end_session_endpoint"], format!("{}/logout", gh.base_url));
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    let bad = gh.cli(&[
        "client",
        "create",
        "--name",
        "x",
        "--redirect-uri",
        BYE,
        "--backchannel-logout-uri",
        "http://portal.example/bc",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid back-channel logout URI"));
}

crate::on_both_backends!(
    single_sign_on_then_logout_with_a_hint_redirects_with_state_and_ends_the_session,
    an_unregistered_post_logout_redirect_uri_is_an_error_page_and_no_redirect,
    a_logout_without_a_hint_asks_first_and_signing_out_there_works,
    backchannel_logout_tells_portal_b_with_a_signed_token,
    a_failing_backchannel_endpoint_gets_the_token_on_a_retry,
    discovery_advertises_logout,
);
