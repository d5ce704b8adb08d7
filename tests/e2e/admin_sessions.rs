//! An operator ends sessions in bulk (OWASP ASVS 5.0 7.4.5), against the running binary: every
//! session of one account (`DELETE /admin/v1/accounts/{id}/sessions`, `gatehouse session end
//! --email`) and every session of every account (`DELETE /admin/v1/sessions`, `gatehouse
//! session end --all`). The ended sessions no longer sign in, the portals that took part hear
//! by back-channel logout, the accounts stay open, and the audit trail says who did it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::Gatehouse;

use crate::admin::Admin;
use crate::logout::{self, Receiver};
use crate::support::{self, Backend, PASSWORD, TestClient};

const ADA: &str = "ada.lovelace@example.org";
const BO: &str = "bo.diddley@example.org";

/// Signs `email` in through the hosted pages for `portal` (a code comes back, so the portal took
/// part in the session).
async fn sign_in_for(gh: &Gatehouse, http: &reqwest::Client, portal: &TestClient, email: &str) {
    let (url, _) = logout::authorize(gh, portal);
    let back = support::sign_in_for_code(http, gh, &url, email).await;
    assert!(back.starts_with(&portal.redirect_uri), "{back}");
}

/// Signs `email` in through the JSON API.
async fn sign_in_by_api(gh: &Gatehouse, http: &reqwest::Client, email: &str) {
    let body = json!({ "email": email, "password": PASSWORD });
    let resp = http.post(gh.url("/api/v1/signin/password")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// Whether the browser's session cookie still works: the JSON API's session endpoint, and
/// `/authorize` answering `portal` with a code instead of the sign-in page (which must agree).
async fn still_signed_in(gh: &Gatehouse, http: &reqwest::Client, portal: &TestClient) -> bool {
    let api = http.get(gh.url("/api/v1/session")).send().await.unwrap().status();
    assert!(api == 200 || api == 401, "{api}");
    let authorize = logout::signed_in(gh, http, portal).await;
    assert_eq!(api == 200, authorize, "the JSON API and /authorize agree");
    authorize
}

/// The `sid` and `sub` of the next logout token the portal receives.
async fn next_logout(receiver: &mut Receiver, portal: &TestClient) -> (String, String) {
    let token = receiver.next_token(Duration::from_secs(10)).await;
    let (header, claims) = logout::jwt_parts(&token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["aud"], portal.id.as_str());
    (claims["sid"].as_str().unwrap().to_owned(), claims["sub"].as_str().unwrap().to_owned())
}

async fn session_ids(admin: &Admin, account: &str) -> Vec<String> {
    let (status, sessions) = admin.call(Method::GET, &format!("/accounts/{account}/sessions"), None).await;
    assert_eq!(status, 200, "{sessions}");
    sessions.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

async fn an_operator_ends_one_accounts_sessions_then_everyones(backend: Backend) {
    let admin = Admin::start(backend).await;
    let gh = &admin.gh;
    let mut receiver = Receiver::start(vec![]).await;
    let portal = logout::portal(gh, "311", &["--backchannel-logout-uri", &receiver.url]);
    let (ada, bo) = (support::create_user(gh, ADA), support::create_user(gh, BO));
    let (ada_pages, ada_api, bo_pages) = (support::browser(), support::browser(), support::browser());
    sign_in_for(gh, &ada_pages, &portal, ADA).await;
    sign_in_by_api(gh, &ada_api, ADA).await;
    sign_in_for(gh, &bo_pages, &portal, BO).await;
    let ada_sessions = session_ids(&admin, &ada).await;
    assert_eq!(ada_sessions.len(), 2);

    // Without the operator's token nothing ends.
    let http = reqwest::Client::new();
    for path in [format!("/admin/v1/accounts/{ada}/sessions"), "/admin/v1/sessions".to_owned()] {
        for auth in [None, Some("Bearer wrong-token")] {
            let mut request = http.delete(gh.url(&path));
            if let Some(auth) = auth {
                request = request.header("Authorization", auth);
            }
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{path} {auth:?}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized");
        }
    }
    assert!(still_signed_in(gh, &ada_pages, &portal).await);
    let (status, body) = admin.call(Method::DELETE, "/accounts/no-such-account/sessions", None).await;
    assert_eq!((status, &body["error"]), (StatusCode::NOT_FOUND, &json!("not_found")), "{body}");

    // One account's sessions end, both of them; the other account's stands.
    let (status, body) = admin.call(Method::DELETE, &format!("/accounts/{ada}/sessions"), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert!(!still_signed_in(gh, &ada_pages, &portal).await);
    assert_eq!(ada_api.get(gh.url("/api/v1/session")).send().await.unwrap().status(), 401);
    assert!(still_signed_in(gh, &bo_pages, &portal).await);
    let (sid, sub) = next_logout(&mut receiver, &portal).await;
    assert!(ada_sessions.contains(&sid) && sub == ada, "the portal hears of Ada's session: {sid} {sub}");

    // Not locked: Ada signs in again.
    let (_, account) = admin.call(Method::GET, &format!("/accounts/{ada}"), None).await;
    assert_eq!((&account["locked"], &account["sessions"]), (&json!(false), &json!(0)), "{account}");
    sign_in_for(gh, &ada_pages, &portal, ADA).await;
    assert!(still_signed_in(gh, &ada_pages, &portal).await);
    let mut live = session_ids(&admin, &ada).await;
    live.extend(session_ids(&admin, &bo).await);
    live.sort();

    // Everyone's sessions end at once; each portal session is told.
    let (status, body) = admin.call(Method::DELETE, "/sessions", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "sessions_ended": 2, "backchannel_logouts": 2 }));
    assert!(!still_signed_in(gh, &ada_pages, &portal).await);
    assert!(!still_signed_in(gh, &bo_pages, &portal).await);
    let mut told =
        vec![next_logout(&mut receiver, &portal).await.0, next_logout(&mut receiver, &portal).await.0];
    told.sort();
    assert_eq!(told, live);
    let (_, again) = admin.call(Method::DELETE, "/sessions", None).await;
    assert_eq!(again["sessions_ended"], 0);

    let (_, events) = admin.call(Method::GET, "/audit?kind=admin.", None).await;
    let events = events.as_array().unwrap();
    let of = |kind: &str| events.iter().filter(|e| e["kind"] == kind).collect::<Vec<_>>();
    let one = of("admin.account_sessions_ended");
    assert_eq!(one.len(), 1, "{events:?}");
    assert_eq!(one[0]["account_id"], json!(ada));
    assert_eq!(one[0]["detail"], json!({ "sessions_ended": 2, "backchannel_logouts": 1 }));
    let all = of("admin.all_sessions_ended");
    assert_eq!(all.len(), 2, "{events:?}");
    assert!(all.iter().all(|e| e["account_id"].is_null() && e["ip"] == "127.0.0.1"), "{all:?}");
    assert!(all.iter().any(|e| e["detail"] == json!({ "sessions_ended": 2, "backchannel_logouts": 2 })));
    assert_eq!(events.len(), 3, "nothing else, and nothing for the refused calls: {events:?}");
}

async fn the_cli_ends_one_accounts_sessions_or_everyones(backend: Backend) {
    let admin = Admin::start(backend).await;
    let gh = &admin.gh;
    let mut receiver = Receiver::start(vec![]).await;
    let portal = logout::portal(gh, "311", &["--backchannel-logout-uri", &receiver.url]);
    let (ada, bo) = (support::create_user(gh, ADA), support::create_user(gh, BO));
    let (ada_http, bo_http) = (support::browser(), support::browser());
    sign_in_by_api(gh, &ada_http, ADA).await;
    sign_in_for(gh, &bo_http, &portal, BO).await;

    let out = gh.cli_json(&["session", "end", "--email", "ADA.Lovelace@example.org"]);
    assert_eq!(out, json!({ "account_id": ada, "sessions_ended": 1, "backchannel_logouts": 0 }));
    assert!(!still_signed_in(gh, &ada_http, &portal).await);
    assert!(still_signed_in(gh, &bo_http, &portal).await);
    for bad in [&["session", "end", "--email", "nobody@example.org"][..], &["session", "end"]] {
        let run = gh.cli(bad);
        assert!(!run.status.success(), "{bad:?}");
        assert!(!String::from_utf8_lossy(&run.stderr).is_empty(), "{bad:?}");
    }

    // The CLI queues the logouts; the running server delivers them.
    let out = gh.cli_json(&["session", "end", "--all"]);
    assert_eq!(out, json!({ "sessions_ended": 1, "backchannel_logouts": 1 }));
    assert!(!still_signed_in(gh, &bo_http, &portal).await);
    let (_, sub) = next_logout(&mut receiver, &portal).await;
    assert_eq!(sub, bo);

    let (_, events) = admin.call(Method::GET, "/audit?kind=admin.", None).await;
    let mut kinds: Vec<&str> =
        events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["admin.account_sessions_ended", "admin.all_sessions_ended"], "{events}");
    assert!(events.as_array().unwrap().iter().all(|e| e["ip"].is_null()), "no address from the CLI");
}

crate::per_backend!(
    an_operator_ends_one_accounts_sessions_then_everyones,
    the_cli_ends_one_accounts_sessions_or_everyones,
);
