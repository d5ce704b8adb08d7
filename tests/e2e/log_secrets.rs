//! No secret ever reaches a log line. gatehouse runs with JSON logs at `trace`, the most verbose
//! filter there is; a citizen signs up, signs in with a password and with an emailed code, resets
//! the password through the link, and a portal runs the code flow, refreshes, introspects and
//! revokes; the operator uses the admin API. Then the whole of stdout and stderr is searched for
//! every secret the test used or received.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, Backend};

const WAIT: Duration = Duration::from_secs(15);
const FIRST_PASSWORD: &str = "Quiet-Harbor-Lamp-73";
const NEW_PASSWORD: &str = "Silent-Orchard-Kite-58";

/// The secrets to look for, each with a name for the failure message.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, name: &str, value: &str) {
        assert!(value.len() >= 6, "{name} is too short to search for: {value:?}");
        self.0.push((name.to_owned(), value.to_owned()));
        // A JWT's signature is a secret on its own; so is its payload, which a log could
        // decode and print piecemeal — the signature is the part no one may print.
        if value.matches('.').count() == 2 {
            let signature = value.rsplit('.').next().unwrap_or_default();
            self.0.push((format!("{name} (signature)"), signature.to_owned()));
        }
    }

    /// The names of the secrets found in `log`.
    fn found_in(&self, log: &str) -> Vec<String> {
        self.0.iter().filter(|(_, value)| appears(log, value)).map(|(name, _)| name.clone()).collect()
    }
}

/// Whether `value` is in `log`. A six-digit code counts only as a number of its own: not inside
/// a longer number, nor as the microseconds of a timestamp (`…:26.123456Z`), which it may
/// match by chance.
fn appears(log: &str, value: &str) -> bool {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return log.contains(value);
    }
    log.match_indices(value).any(|(at, _)| {
        let before = log[..at].bytes().next_back();
        let after = log[at + value.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit() || b == b'.') && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

fn api(gh: &testkit::Gatehouse, path: &str) -> String {
    gh.url(&format!("/api/v1{path}"))
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let resp = http.post(url).json(&body).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The session cookie's value from a response.
fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("gatehouse_session="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {:?}", resp.headers()))
        .to_owned()
}

async fn no_secret_appears_in_the_most_verbose_log(backend: Backend) {
    let bin = support::bin().display().to_string();
    let out = std::process::Command::new(bin).args(["admin", "token"]).output().unwrap();
    let pair: Value = serde_json::from_slice(&out.stdout).unwrap();
    let admin_token = pair["token"].as_str().unwrap().to_owned();
    let (gh, sink) = support::start_with_mail(
        backend,
        &[
            ("GATEHOUSE_LOG__FORMAT", "json"),
            ("GATEHOUSE_LOG__LEVEL", "trace"),
            ("GATEHOUSE_ADMIN__TOKEN_SHA256", pair["token_sha256"].as_str().unwrap()),
            // Two mails of one purpose in a row (the reset link after the sign-up link is
            // another purpose, but keep the test independent of the resend interval).
            ("GATEHOUSE_ACCOUNTS__CODES__RESEND_INTERVAL_SECS", "0"),
        ],
    )
    .await;
    let mut secrets = Secrets::default();
    secrets.add("admin token", &admin_token);
    let master = std::fs::read_to_string(gh.data_dir.join("master.key")).unwrap();
    secrets.add("master key", master.trim());
    secrets.add("first password", FIRST_PASSWORD);
    secrets.add("new password", NEW_PASSWORD);
    let http = support::browser();
    let email = "rowan.ashdown@example.org";

    // Sign up and follow the emailed link.
    let form = json!({ "email": email, "given_name": "Rowan", "family_name": "Ashdown", "password": FIRST_PASSWORD });
    let (status, body) = post(&http, api(&gh, "/signup"), form).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let verify =
        support::query_param(&sink.wait_for(email, WAIT).await.link("/verify-email"), "token").unwrap();
    secrets.add("sign-up link token", &verify);
    let (status, body) = post(&http, api(&gh, "/signup/verify"), json!({ "token": verify })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Sign in with the password (the JSON API and the hosted pages run the same flow).
    let resp = http
        .post(api(&gh, "/signin/password"))
        .json(&json!({ "email": email, "password": FIRST_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    secrets.add("session cookie (password)", &session_cookie(&resp));
    let (status, _) = support::password_sign_in(&gh, &support::browser(), email, FIRST_PASSWORD).await;
    assert_eq!(status, 200, "the hosted pages sign in too");

    // An emailed code.
    let (status, body) = post(&http, api(&gh, "/signin/code"), json!({ "email": email })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = sink.wait_for(email, WAIT).await.six_digit_code();
    secrets.add("emailed sign-in code", &code);
    let resp = http
        .post(api(&gh, "/signin/code/verify"))
        .json(&json!({ "email": email, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    secrets.add("session cookie (code)", &session_cookie(&resp));

    // Reset the password through the link.
    let (status, _) = post(&http, api(&gh, "/password/forgot"), json!({ "email": email })).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let reset =
        support::query_param(&sink.wait_for(email, WAIT).await.link("/password/reset"), "token").unwrap();
    secrets.add("reset link token", &reset);
    let (status, body) =
        post(&http, api(&gh, "/password/reset"), json!({ "token": reset, "password": NEW_PASSWORD })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The reset revokes every token issued up to its second (whole seconds): start the portal's
    // flow in the next one.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // A portal: the code flow with the new password, then refresh, introspect, revoke.
    let client =
        support::create_client(&gh, &["--grant-type", "authorization_code", "--grant-type", "refresh_token"]);
    let client_secret = client.secret.clone().unwrap();
    secrets.add("client secret", &client_secret);
    let (verifier, challenge) = testkit::pkce::pair();
    secrets.add("PKCE verifier", &verifier);
    let portal = support::browser();
    let url = support::authorize_url(
        &gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email offline_access"),
            ("state", "state-value-1"),
            ("nonce", "nonce-value-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let resp = support::sign_in(&portal, &gh, &url, email, NEW_PASSWORD).await;
    assert_eq!(resp.status(), 303, "signed in with the new password");
    let back = portal.get(gh.url(&support::location(&resp))).send().await.unwrap();
    let redirect = support::location(&back);
    let code = support::query_param(&redirect, "code").unwrap_or_else(|| panic!("no code: {redirect}"));
    secrets.add("authorization code", &code);
    let tokens: Value = support::redeem(&gh, &client, &code, &verifier).await.json().await.unwrap();
    for name in ["access_token", "refresh_token", "id_token"] {
        let value = tokens[name].as_str().unwrap_or_else(|| panic!("no {name}: {tokens}"));
        secrets.add(name, value);
    }
    let machine = reqwest::Client::new();
    let refreshed: Value = machine
        .post(gh.url("/token"))
        .basic_auth(&client.id, Some(&client_secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for name in ["access_token", "refresh_token"] {
        let value = refreshed[name].as_str().unwrap_or_else(|| panic!("no {name}: {refreshed}"));
        secrets.add(&format!("refreshed {name}"), value);
    }
    let access = refreshed["access_token"].as_str().unwrap();
    let userinfo = machine.get(gh.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(userinfo.status(), 200);
    let introspection: Value = machine
        .post(gh.url("/introspect"))
        .basic_auth(&client.id, Some(&client_secret))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true, "{introspection}");
    let revoked = machine
        .post(gh.url("/revoke"))
        .basic_auth(&client.id, Some(&client_secret))
        .form(&[("token", refreshed["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);

    // The operator.
    let accounts = machine.get(gh.url("/admin/v1/accounts")).bearer_auth(&admin_token).send().await.unwrap();
    assert_eq!(accounts.status(), 200);

    // Let the outbox worker log its last lines, then read everything the server wrote.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = format!("{}\n{}", gh.stdout(), gh.stderr());
    assert!(log.lines().count() > 50, "the trace log is suspiciously short:\n{log}");
    assert!(
        log.contains("\"level\":\"TRACE\"") || log.contains("\"level\":\"DEBUG\""),
        "not verbose:\n{log}"
    );
    let found = secrets.found_in(&log);
    assert!(found.is_empty(), "secrets in the log: {found:?}");
}

#[tokio::test]
async fn no_secret_appears_in_the_most_verbose_log_sqlite() {
    no_secret_appears_in_the_most_verbose_log(Backend::Sqlite).await;
}

#[tokio::test]
async fn no_secret_appears_in_the_most_verbose_log_postgres() {
    no_secret_appears_in_the_most_verbose_log(Backend::Postgres).await;
}
