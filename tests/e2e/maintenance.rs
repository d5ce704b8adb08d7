//! The retention purge against the running binary: `gatehouse purge` once, and the schedule
//! every node runs. A session that has expired is the row both must take.

use std::time::{Duration, Instant};

use crate::support::{self, Backend, PASSWORD};

/// Sessions that last one second, so one can expire inside a test.
const SHORT_SESSIONS: (&str, &str) = ("GATEHOUSE_SESSIONS__TTL", "1");

async fn expired_session(gh: &testkit::Gatehouse, email: &str) {
    support::create_user(gh, email);
    let (status, _) = support::password_sign_in(gh, &support::browser(), email, PASSWORD).await;
    assert!(status < 400, "sign-in failed: {status}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

async fn gatehouse_purge_takes_an_expired_session_once(backend: Backend) {
    let gh =
        support::start_with(backend, &[SHORT_SESSIONS, ("GATEHOUSE_MAINTENANCE__PURGE_INTERVAL_SECS", "0")])
            .await;
    expired_session(&gh, "purge.once@example.org").await;
    let out = gh.cli_json(&["purge"]);
    assert_eq!(out["purged"]["sessions"], 1, "{out}");
    assert_eq!(out["purged"]["refresh_tokens"], 0, "{out}");
    let again = gh.cli_json(&["purge"]);
    assert!(again["purged"].as_object().unwrap().values().all(|n| n == 0), "{again}");
}

async fn every_node_purges_on_its_schedule(backend: Backend) {
    let gh =
        support::start_with(backend, &[SHORT_SESSIONS, ("GATEHOUSE_MAINTENANCE__PURGE_INTERVAL_SECS", "1")])
            .await;
    expired_session(&gh, "purge.scheduled@example.org").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gh.stderr().contains("sessions=1") {
        assert!(Instant::now() < deadline, "no scheduled purge took the session:\n{}", gh.stderr());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = gh.cli_json(&["purge"]);
    assert_eq!(out["purged"]["sessions"], 0, "the schedule took it already: {out}");
}

crate::per_backend!(gatehouse_purge_takes_an_expired_session_once, every_node_purges_on_its_schedule);
