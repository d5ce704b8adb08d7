//! The operator's command line: JSON out, one line saying what to fix on bad input, and a
//! server that starts with no configuration at all.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::Gatehouse;

use crate::support;

fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure, got {:?}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line expected:\n{stderr}");
    assert!(out.stdout.is_empty(), "nothing printed on stdout on failure");
    stderr
}

async fn bad_arguments_exit_non_zero_with_one_line(gh: &Gatehouse) {
    let e = one_line_error(&gh.cli(&["client", "create", "--name", "x", "--redirect-uri", "ftp://x/cb"]));
    assert!(e.contains("ftp://x/cb"), "{e}");
    let e =
        one_line_error(&gh.cli(&["client", "create", "--name", "x", "--redirect-uri", "https://x/cb#frag"]));
    assert!(e.contains("https://x/cb#frag"), "{e}");

    support::create_user(gh, "dup@example.org");
    let e = one_line_error(&gh.cli(&[
        "user",
        "create",
        "--email",
        "DUP@example.org",
        "--password",
        support::PASSWORD,
    ]));
    assert!(e.contains("already exists"), "{e}");
    let e =
        one_line_error(&gh.cli(&["user", "create", "--email", "weak@example.org", "--password", "weakpass"]));
    assert!(e.contains("uppercase") && e.contains("number"), "every broken rule is named: {e}");
    let e = one_line_error(&gh.cli(&[
        "user",
        "create",
        "--email",
        "not-an-email",
        "--password",
        support::PASSWORD,
    ]));
    assert!(e.contains("not-an-email"), "{e}");
    // Nothing was created by the failures.
    let users = gh.cli_json(&["user", "list"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
}

async fn clients_are_listed_and_deleted(gh: &Gatehouse) {
    let a = support::create_client(
        gh,
        &["--post-logout-redirect-uri", "https://311.example/bye", "--scope", "openid", "--scope", "email"],
    );
    let b = support::create_client(gh, &["--public"]);
    let list = gh.cli_json(&["client", "list"]);
    let listed: Vec<&str> =
        list.as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
    assert!(listed.contains(&a.id.as_str()) && listed.contains(&b.id.as_str()));
    let stored = list.as_array().unwrap().iter().find(|c| c["client_id"] == a.id.as_str()).unwrap();
    assert_eq!(stored["post_logout_redirect_uris"], serde_json::json!(["https://311.example/bye"]));
    assert_eq!(stored["scopes"], serde_json::json!(["openid", "email"]));
    for c in list.as_array().unwrap() {
        assert!(c.get("client_secret").is_none(), "secrets are shown once, at creation");
    }

    gh.cli_json(&["client", "delete", &a.id]);
    let list = gh.cli_json(&["client", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let e = one_line_error(&gh.cli(&["client", "delete", &a.id]));
    assert!(e.contains(&a.id), "{e}");
}

crate::on_both_backends!(bad_arguments_exit_non_zero_with_one_line, clients_are_listed_and_deleted);

fn bare_command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(support::bin());
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GATEHOUSE_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn unknown_setting_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        bare_command(dir.path()).arg("serve").env("GATEHOUSE_SESSIONS__TTL_MINUTES", "5").output().unwrap();
    let e = one_line_error(&out);
    assert!(e.contains("sessions.ttl_minutes"), "{e}");
    let out = bare_command(dir.path()).arg("serve").env("GATEHOUSE_BIND", "everywhere").output().unwrap();
    assert!(one_line_error(&out).contains("bind"));
}

/// The README's run command: no configuration file, SQLite created in data/, keys generated.
#[test]
fn serve_with_no_configuration_creates_its_database_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let port = testkit::free_port();
    let mut child = bare_command(dir.path())
        .arg("serve")
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let ok = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if ok || Instant::now() > deadline {
            break ok;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(ready, "server did not start:\n{log}");
    assert!(dir.path().join("data/gatehouse.db").is_file());
    assert!(dir.path().join("data/master.key").is_file());
    let line =
        log.lines().find(|l| l.contains("listening on")).unwrap_or_else(|| panic!("no start line:\n{log}"));
    assert!(line.contains(&format!("127.0.0.1:{port}")) && line.contains("sqlite"), "{line}");
}
