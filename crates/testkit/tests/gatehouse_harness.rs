//! `Gatehouse` against a stand-in binary (python3), so the harness is tested on its own: the
//! environment it passes, readiness, `cli_json`, and the failure message of a server that dies.

use std::path::{Path, PathBuf};
use std::process::Command;

use gatehouse_testkit::Gatehouse;

/// `serve` answers 200 on /health/ready; any other command prints its args and GATEHOUSE_* env.
const FAKE: &str = r#"#!/usr/bin/env python3
import http.server, json, os, sys
if sys.argv[1:] == ["serve"]:
    if os.environ.get("FAKE_DIE"):
        sys.exit("fake gatehouse: " + os.environ["FAKE_DIE"])
    host, port = os.environ["GATEHOUSE_BIND"].rsplit(":", 1)
    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health/ready" else 404)
            self.end_headers()
        def log_message(self, *args):
            pass
    http.server.HTTPServer((host, int(port)), Ready).serve_forever()
env = {k: v for k, v in os.environ.items() if k.startswith("GATEHOUSE_")}
print(json.dumps({"args": sys.argv[1:], "env": env}))
"#;

/// Written by a child process, so no file descriptor of ours is open on it when it is executed
/// (a parallel test's fork could otherwise hold one: "Text file busy").
fn fake_bin(dir: &Path) -> PathBuf {
    let path = dir.join("gatehouse");
    let status = Command::new("sh")
        .args(["-c", r#"printf '%s' "$2" > "$1" && chmod 755 "$1""#, "sh"])
        .arg(&path)
        .arg(FAKE)
        .status()
        .unwrap_or_else(|e| panic!("cannot run sh: {e}"));
    assert!(status.success(), "cannot write {}", path.display());
    path
}

#[tokio::test]
async fn server_and_cli_get_the_same_settings_and_nothing_inherited() {
    let dir = tempfile::tempdir().unwrap();
    let gatehouse = Gatehouse::builder(fake_bin(dir.path()))
        .database("postgres://postgres@127.0.0.1:1/x")
        .env("GATEHOUSE_PASSWORDS__ARGON2__MEMORY_KIB", "2048")
        .env("GATEHOUSE_EXTRA", "yes")
        .start()
        .await;

    let out = gatehouse.cli_json(&["client", "create", "--name", "n"]);
    assert_eq!(out["args"], serde_json::json!(["client", "create", "--name", "n"]));
    let env = out["env"].as_object().unwrap();
    let port = gatehouse.base_url.rsplit(':').next().unwrap();
    assert_eq!(env["GATEHOUSE_BIND"], format!("127.0.0.1:{port}"));
    assert_eq!(env["GATEHOUSE_ISSUER"], gatehouse.base_url.as_str());
    assert_eq!(env["GATEHOUSE_DATABASE_URL"], "postgres://postgres@127.0.0.1:1/x");
    assert_eq!(env["GATEHOUSE_DATA_DIR"], gatehouse.data_dir.display().to_string());
    assert_eq!(env["GATEHOUSE_PASSWORDS__ARGON2__MEMORY_KIB"], "2048");
    assert_eq!(env["GATEHOUSE_EXTRA"], "yes");
    assert_eq!(env.len(), 6, "inherited GATEHOUSE_* variables leaked: {env:?}");

    let ready = reqwest::get(gatehouse.url("/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn default_database_is_a_sqlite_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let gatehouse = Gatehouse::builder(fake_bin(dir.path())).start().await;
    let env = &gatehouse.cli_json(&["x"])["env"];
    let expected = format!("sqlite://{}/gatehouse.db", gatehouse.data_dir.display());
    assert_eq!(env["GATEHOUSE_DATABASE_URL"], expected.as_str());
}

#[tokio::test]
#[should_panic(expected = "fake gatehouse: no database")]
async fn a_server_that_exits_fails_the_test_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    Gatehouse::builder(fake_bin(dir.path())).env("FAKE_DIE", "no database").start().await;
}

#[test]
fn fresh_sqlite_url_points_into_its_temp_dir() {
    let (dir, url) = gatehouse_testkit::fresh_sqlite_url();
    assert_eq!(url, format!("sqlite://{}/gatehouse.db", dir.path().display()));
}
