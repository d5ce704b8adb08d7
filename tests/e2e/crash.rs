//! Crash safety: `kill -9` the server while citizens sign up and their verification mail is
//! being sent, start it again on the same database, and check what was promised. Every sign-up
//! answered 202 was stored with its message (the answer comes after the commit); no message
//! arrives twice; every message arrives exactly once but for at most the one the killed mail
//! worker was handing over, which is either still `sending` and not delivered (it is sent again
//! when its claim's lease ends) or was recorded `sent` an instant before the kill stopped its
//! final `.` (lost: `mail::outbox` explains why one of the two outcomes must be possible); and
//! the database passes its integrity checks. On SQLite and PostgreSQL; the figures are printed
//! (`--nocapture`) and written down in docs/testing.md.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::Gatehouse;

use crate::support::{self, Backend};

/// Citizens signing up at once, each one address after another.
const CITIZENS: usize = 8;
/// How long the load runs before the kill.
const LOAD: Duration = Duration::from_millis(1500);
const DRAIN: Duration = Duration::from_secs(20);

/// One citizen's sign-ups until `stop`: the addresses answered 202.
async fn sign_up_until(
    gh_url: String,
    citizen: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let email = format!("citizen{citizen}-{i}@example.org");
        let body =
            json!({ "email": email, "given_name": "Ole", "family_name": "Mae", "password": "Crash-Test-42" });
        // A request cut off by the kill is neither acknowledged nor an error of the test.
        match http.post(format!("{gh_url}/api/v1/signup")).json(&body).send().await {
            Ok(resp) if resp.status() == 202 => acked.lock().unwrap().push(email),
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                if !stop.load(Ordering::SeqCst) {
                    panic!("sign-up of {email} answered {status}: {text}");
                }
            }
            Err(_) => return,
        }
    }
}

/// `(recipient, status)` of every outbox row.
fn outbox(gh: &Gatehouse) -> Vec<(String, String)> {
    support::query(gh, "SELECT recipient, status FROM outbox ORDER BY recipient")
        .into_iter()
        .map(|row| {
            let (to, status) = row.split_once('|').unwrap();
            (to.to_owned(), status.to_owned())
        })
        .collect()
}

/// The backend's own integrity checks: SQLite's `integrity_check` and `foreign_key_check`;
/// on PostgreSQL (foreign keys hold by construction) queries for rows a crash could orphan.
fn assert_database_is_sound(gh: &Gatehouse) {
    if gh.database_url.starts_with("sqlite://") {
        assert_eq!(support::query(gh, "PRAGMA integrity_check"), ["ok"]);
        assert_eq!(support::query(gh, "PRAGMA foreign_key_check"), Vec::<String>::new());
        return;
    }
    let orphans = [
        "SELECT count(*) FROM password_history h WHERE NOT EXISTS \
         (SELECT 1 FROM accounts a WHERE a.id = h.account_id)",
        "SELECT count(*) FROM one_time_codes c WHERE NOT EXISTS \
         (SELECT 1 FROM accounts a WHERE a.id = c.account_id)",
        "SELECT count(*) FROM lockouts l WHERE NOT EXISTS \
         (SELECT 1 FROM accounts a WHERE a.id = l.account_id)",
        "SELECT count(*) FROM accounts GROUP BY lower(email) HAVING count(*) > 1",
        "SELECT count(*) FROM outbox WHERE status NOT IN ('pending', 'sending', 'sent', 'failed', 'in_doubt')",
    ];
    for sql in orphans {
        let rows = support::query(gh, sql);
        assert!(rows.is_empty() || rows == ["0"], "{sql}: {rows:?}");
    }
    // The B-tree indexes of the crashed server's tables, checked by the server itself.
    let amcheck = support::query(gh, "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'");
    if amcheck == ["1"] {
        support::query(gh, "CREATE EXTENSION IF NOT EXISTS amcheck");
        let indexes = "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                       JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace \
                       WHERE am.amname = 'btree' AND n.nspname = current_schema()";
        // An index that does not match its table is an error, which fails `query`.
        support::query(gh, &format!("SELECT bt_index_check(c.oid, true) {indexes}"));
        assert_ne!(support::query(gh, &format!("SELECT count(*) {indexes}")), ["0"], "no index checked");
    }
}

async fn acknowledged_sign_ups_survive_kill_9_and_their_mail_arrives_exactly_once(backend: Backend) {
    let test_started = Instant::now();
    let (mut gh, sink) = support::start_with_mail(backend, &support::UNLIMITED).await;
    let backend = if gh.database_url.starts_with("sqlite") { "sqlite" } else { "postgres" };

    let (stop, acked) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
    let citizens: Vec<_> = (0..CITIZENS)
        .map(|c| tokio::spawn(sign_up_until(gh.base_url.clone(), c, stop.clone(), acked.clone())))
        .collect();
    tokio::time::sleep(LOAD).await;
    let delivered_before_kill = sink.messages().len();
    gh.kill_hard();
    stop.store(true, Ordering::SeqCst);
    for citizen in citizens {
        citizen.await.unwrap();
    }
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() >= 20, "the load acknowledged only {} sign-ups", acked.len());

    let restarted = Instant::now();
    gh.restart().await;
    let restart_ms = restarted.elapsed().as_millis();
    // The outbox drains: nothing pending. A row left `sending` was claimed by the killed server.
    let deadline = Instant::now() + DRAIN;
    let rows = loop {
        let rows = outbox(&gh);
        if rows.iter().all(|(_, status)| status != "pending") {
            break rows;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain: {rows:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let drained_ms = restarted.elapsed().as_millis();

    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for mail in sink.messages() {
        for to in mail.envelope_to {
            *received.entry(to.to_lowercase()).or_default() += 1;
        }
    }
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let queued: BTreeMap<&str, &str> = rows.iter().map(|(to, s)| (to.as_str(), s.as_str())).collect();
    assert_eq!(queued.len(), rows.len(), "one message per address");
    for email in &acked {
        assert!(queued.contains_key(email.as_str()), "acknowledged {email} has no queued message");
    }
    // Every acknowledged sign-up was stored, with its message, before its answer.
    let registered: BTreeSet<String> =
        support::query(&gh, "SELECT email FROM registrations").into_iter().collect();
    for email in &acked {
        assert!(registered.contains(email), "acknowledged {email} has no registration");
    }
    // The killed worker sent one message at a time, recording it `sent` between its body and its
    // final `.`. So at most one message can be caught between the two: still `sending` (the
    // relay never got its `.`; it is sent again when the claim's lease ends), or `sent` with the
    // kill landing after the database committed and before the `.` left the process (lost).
    let mut window = Vec::new();
    for (to, status) in &rows {
        match (status.as_str(), received.get(to.as_str())) {
            ("sent", Some(1)) => {}
            ("sent", None) | ("sending", None) => window.push((to.clone(), status.clone())),
            other => panic!("{to}: {other:?}"),
        }
    }
    assert!(window.len() <= 1, "one mail worker was killed, one message at most in its window: {window:?}");

    // Every acknowledged sign-up whose link arrived becomes an account, through its link.
    let http = support::browser();
    let mut verified = 0;
    for email in &acked {
        let Some(mail) = sink.take(email) else {
            assert!(window.iter().any(|(to, _)| to == email), "{email}: no mail and not in the window");
            continue;
        };
        let token = support::query_param(&mail.link("/verify-email"), "token").unwrap();
        let resp =
            http.post(gh.url("/api/v1/signup/verify")).json(&json!({ "token": token })).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{email}");
        verified += 1;
    }
    let accounts = gh.cli_json(&["user", "list"]);
    let emails: BTreeSet<&str> =
        accounts.as_array().unwrap().iter().filter_map(|a| a["email"].as_str()).collect();
    for email in &acked {
        let caught = window.iter().any(|(to, _)| to == email);
        assert!(emails.contains(email.as_str()) || caught, "acknowledged {email} has no account");
    }

    assert_database_is_sound(&gh);
    let log = gh.stderr();
    assert!(!log.contains("panicked"), "{log}");
    eprintln!(
        "crash on {backend}: {} sign-ups acknowledged in {} ms by {CITIZENS} citizens, {delivered_before_kill} \
         mails delivered before kill -9, {} outbox rows, caught in the window {:?}, restart {restart_ms} ms, \
         outbox drained {drained_ms} ms after restart, {verified} accounts verified, whole test {} ms",
        acked.len(),
        LOAD.as_millis(),
        rows.len(),
        window,
        test_started.elapsed().as_millis(),
    );
}

crate::per_backend!(acknowledged_sign_ups_survive_kill_9_and_their_mail_arrives_exactly_once);
