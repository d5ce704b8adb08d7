//! The session inactivity timeout (`sessions.idle_ttl`, ASVS 5.0 7.3.1) on the real binary:
//! with a 2-second timeout (a step of 1 s), a session in use outlives it, one left idle is
//! refused at /authorize as an expired one is, and ending it sends no back-channel logout.

use std::time::Duration;

use crate::support::{self, Backend};

async fn a_session_in_use_stays_alive_and_one_left_idle_is_refused(backend: Backend) {
    let gh = support::start_with(backend, &[("GATEHOUSE_SESSIONS__IDLE_TTL", "2")]).await;
    // Nothing listens on port 9: a queued logout would stay in the table, which is the point.
    let portal = support::create_client(&gh, &["--backchannel-logout-uri", "http://127.0.0.1:9/bc"]);
    support::create_user(&gh, "idle@example.org");
    let authorize = |extra: &[(&str, &str)]| crate::sessions::request(&gh, &portal, extra);
    let http = support::browser();
    let back = support::sign_in_for_code(&http, &gh, &authorize(&[]), "idle@example.org").await;
    assert!(support::query_param(&back, "code").is_some(), "{back}");

    // Used every half second for 3 s: longer than the timeout and its step, so only the
    // recorded uses keep it alive.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let to = support::location(&http.get(authorize(&[("prompt", "none")])).send().await.unwrap());
        assert!(support::query_param(&to, "code").is_some(), "a session in use is live: {to}");
    }
    let me = http.get(format!("{}/api/v1/session", gh.base_url)).send().await.unwrap();
    assert_eq!(me.status(), 200, "the JSON API sees it too");

    // Left idle past ttl + step (3 s), it is dead: the sign-in pages show, prompt=none is refused.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let resp = http.get(authorize(&[])).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(support::location(&resp).starts_with("/signin?"), "{}", support::location(&resp));
    let to = support::location(&http.get(authorize(&[("prompt", "none")])).send().await.unwrap());
    assert_eq!(support::query_param(&to, "error").as_deref(), Some("login_required"), "{to}");
    let me = http.get(format!("{}/api/v1/session", gh.base_url)).send().await.unwrap();
    let none = support::browser().get(format!("{}/api/v1/session", gh.base_url)).send().await.unwrap();
    assert_eq!(me.status(), none.status(), "the JSON API answers as without a session");

    // Signing in again replaces the dead session; nobody signed out of it, so the portal that
    // took part in it is not sent a back-channel logout.
    let back = support::sign_in_for_code(&http, &gh, &authorize(&[]), "idle@example.org").await;
    assert!(support::query_param(&back, "code").is_some(), "{back}");
    assert_eq!(support::query(&gh, "SELECT count(*) FROM backchannel_logouts"), vec!["0".to_owned()]);
    assert_eq!(support::query(&gh, "SELECT count(*) FROM sessions"), vec!["1".to_owned()]);
}

crate::per_backend!(a_session_in_use_stays_alive_and_one_left_idle_is_refused);
