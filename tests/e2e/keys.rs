//! Signing-key rotation against the running binary: `gatehouse keys rotate` publishes a new key
//! at once, signs with it only after the publish lead, and keeps the old key published until
//! every token it signed has expired — on every node sharing the database.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use testkit::Gatehouse;

use crate::support::{self, Backend, PASSWORD, TestClient};

/// Reload every second, sign with a new key 4 s after it is published, tokens live 10 s: a
/// retired key stays published 11 s.
const FAST_ROTATION: &[(&str, &str)] = &[
    ("GATEHOUSE_KEYS__RELOAD_SECS", "1"),
    ("GATEHOUSE_KEYS__PUBLISH_LEAD_SECS", "4"),
    ("GATEHOUSE_TOKENS__ACCESS_TOKEN_TTL", "10"),
    ("GATEHOUSE_TOKENS__ID_TOKEN_TTL", "10"),
];

/// The `kid` in a JWT's header.
fn kid(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(gh: &Gatehouse) -> Vec<String> {
    let jwks: Value = reqwest::get(gh.url("/.well-known/jwks.json")).await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Polls `gh`'s JWKS until `check` holds, for at most `within`.
async fn wait_for_jwks(gh: &Gatehouse, within: Duration, check: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let kids = jwks_kids(gh).await;
        if check(&kids) {
            return kids;
        }
        assert!(Instant::now() < deadline, "the JWKS never changed as expected: {kids:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Signs in through the JSON API on `signin`, authorizes (no page: the session is there) and
/// redeems the code at `token`; returns the token response.
pub(crate) async fn tokens(signin: &Gatehouse, token: &Gatehouse, client: &TestClient, email: &str) -> Value {
    let http = support::browser();
    let body = json!({ "email": email, "password": PASSWORD });
    let resp = http.post(signin.url("/api/v1/signin/password")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        signin,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ],
    );
    let back = support::location(&http.get(url).send().await.unwrap());
    let code = support::query_param(&back, "code").unwrap();
    let resp = support::redeem(token, client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn userinfo_status(gh: &Gatehouse, access_token: &str) -> u16 {
    let resp =
        reqwest::Client::new().get(gh.url("/userinfo")).bearer_auth(access_token).send().await.unwrap();
    resp.status().as_u16()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn a_rotated_key_is_published_first_signs_later_and_the_old_key_lingers(backend: Backend) {
    let gh = support::start_with(backend, FAST_ROTATION).await;
    let email = "rosa@example.org";
    support::create_user(&gh, email);
    let client = support::create_client(&gh, &[]);

    let before = tokens(&gh, &gh, &client, email).await;
    let old_access = before["access_token"].as_str().unwrap().to_owned();
    let (old_es, old_rs) = (kid(&old_access), kid(before["id_token"].as_str().unwrap()));

    let out = gh.cli_json(&["keys", "rotate"]);
    let rotated = out["rotated"].as_array().unwrap();
    assert_eq!(rotated.len(), 2, "{out}");
    let new_kid =
        |alg: &str| rotated.iter().find(|r| r["alg"] == alg).unwrap()["kid"].as_str().unwrap().to_owned();
    let (new_es, new_rs) = (new_kid("ES256"), new_kid("RS256"));
    let activates_at = rotated[0]["activates_at"].as_i64().unwrap();

    // Published within a reload, and still not signing.
    wait_for_jwks(&gh, Duration::from_secs(3), |kids| kids.contains(&new_es) && kids.contains(&new_rs)).await;
    let listed = gh.cli_json(&["keys", "list"]);
    let state =
        |kid: &str| listed.as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap()["state"].clone();
    assert_eq!((state(&new_es), state(&old_es)), (json!("pending"), json!("active")), "{listed}");
    if unix_now() < activates_at - 1 {
        let pending = tokens(&gh, &gh, &client, email).await;
        assert_eq!(kid(pending["access_token"].as_str().unwrap()), old_es, "a pending key does not sign");
    }

    // A second rotation while one is pending is refused with one line saying why.
    let again = gh.cli(&["keys", "rotate", "--alg", "ES256"]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already waiting") && stderr.trim().lines().count() == 1, "{stderr}");

    // After the lead and a reload, new tokens carry the new keys; the old token still works.
    let wait = (activates_at - unix_now()).max(0) as u64 + 2;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let after = tokens(&gh, &gh, &client, email).await;
    assert_eq!(kid(after["access_token"].as_str().unwrap()), new_es);
    assert_eq!(kid(after["id_token"].as_str().unwrap()), new_rs);
    assert_eq!(userinfo_status(&gh, &old_access).await, 200, "signed by the retired key, not expired yet");
    assert!(jwks_kids(&gh).await.contains(&old_es));

    // Once every token the old keys signed has expired, they leave the JWKS.
    wait_for_jwks(&gh, Duration::from_secs(15), |kids| !kids.contains(&old_es) && !kids.contains(&old_rs))
        .await;
    assert_eq!(userinfo_status(&gh, &old_access).await, 401);
}

/// Two nodes on one PostgreSQL database, one issuer and one master key, as behind a load
/// balancer: a rotation run against the database reaches both, and each verifies what the
/// other signs.
async fn a_rotation_reaches_every_node() {
    let database = testkit::fresh_database_url();
    let master = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let first =
        Gatehouse::builder(support::bin()).database(&database).env("GATEHOUSE_KEYS__MASTER_KEY", &master);
    let first = FAST_ROTATION.iter().fold(first, |b, (k, v)| b.env(*k, *v)).start().await;
    let issuer = first.base_url.clone();
    let second = Gatehouse::builder(support::bin())
        .database(&database)
        .env("GATEHOUSE_KEYS__MASTER_KEY", &master)
        .env("GATEHOUSE_ISSUER", &issuer);
    let second = FAST_ROTATION.iter().fold(second, |b, (k, v)| b.env(*k, *v)).start().await;
    let email = "sam@example.org";
    support::create_user(&first, email);
    let client = support::create_client(&first, &[]);

    let out = second.cli_json(&["keys", "rotate", "--alg", "ES256"]);
    let new_es = out["rotated"][0]["kid"].as_str().unwrap().to_owned();
    let activates_at = out["rotated"][0]["activates_at"].as_i64().unwrap();
    for node in [&first, &second] {
        wait_for_jwks(node, Duration::from_secs(3), |kids| kids.contains(&new_es)).await;
    }
    tokio::time::sleep(Duration::from_secs((activates_at - unix_now()).max(0) as u64 + 2)).await;
    // Signed in on the first node, redeemed on the second, used on the first.
    let issued = tokens(&first, &second, &client, email).await;
    let access = issued["access_token"].as_str().unwrap();
    assert_eq!(kid(access), new_es);
    assert_eq!(userinfo_status(&first, access).await, 200);
    assert_eq!(userinfo_status(&second, access).await, 200);
}

crate::per_backend!(a_rotated_key_is_published_first_signs_later_and_the_old_key_lingers);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_rotation_reaches_every_node() {
    a_rotation_reaches_every_node().await;
}
