//! A fresh PostgreSQL database per test.
//!
//! With `GATEHOUSE_TEST_POSTGRES_URL` set (by `scripts/test`), every test binary shares that
//! server. Without it, the first call in a test process starts a throw-away server of its own:
//! `initdb` into a temp dir (as the `postgres` OS user when we are root: `initdb` refuses root),
//! `pg_ctl start` on a free loopback port. Statics are never dropped, so a watchdog shell holds
//! the read end of a pipe whose write end only this process has; when the process exits, however
//! it exits, the pipe closes, and the watchdog stops the server and removes the temp dir.
//!
//! Either server also accepts TLS (`ssl = on`, a throw-away self-signed certificate for
//! 127.0.0.1 made with the `openssl` command), so tests can connect with `sslmode=require` or
//! `verify-full` against [`postgres_root_cert`]. Plain connections keep working.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Output, Stdio};
use std::sync::OnceLock;

use url::Url;

/// The environment variable naming a running server (`postgres://postgres@127.0.0.1:PORT/postgres`)
/// on which [`fresh_database_url`] creates its databases.
pub const POSTGRES_URL_ENV: &str = "GATEHOUSE_TEST_POSTGRES_URL";

/// The environment variable naming the PEM certificate that server presents for TLS (set by
/// `scripts/test` beside [`POSTGRES_URL_ENV`]).
pub const POSTGRES_ROOT_CERT_ENV: &str = "GATEHOUSE_TEST_POSTGRES_ROOT_CERT";

const PG_LIB: &str = "/usr/lib/postgresql";

/// Creates an empty database `gh_test_<random>` and returns its URL.
///
/// Panics with one line saying what is missing when no server can be had.
pub fn fresh_database_url() -> String {
    let server = match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => local_server_or_panic().url.clone(),
    };
    let name = format!("gh_test_{}", crate::random_hex(8));
    psql(&server, &format!("CREATE DATABASE {name}"));
    let mut url =
        Url::parse(&server).unwrap_or_else(|e| panic!("{POSTGRES_URL_ENV}={server} is not a URL: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Runs `sql` with the `psql` client against `database_url` and returns its unaligned, tuples-only
/// output; panics with psql's error if it fails.
pub fn psql(database_url: &str, sql: &str) -> String {
    let output = Command::new(psql_binary())
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database_url, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run psql (PostgreSQL client; apt-get install postgresql-client): {e}")
        });
    if !output.status.success() {
        panic!("psql {sql:?} on {database_url} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The certificate the test server presents (self-signed, for the IP address 127.0.0.1): the
/// `sslrootcert` of a `verify-full` connection to a [`fresh_database_url`].
pub fn postgres_root_cert() -> PathBuf {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.is_empty() => match std::env::var(POSTGRES_ROOT_CERT_ENV) {
            Ok(cert) if !cert.is_empty() => PathBuf::from(cert),
            _ => panic!("{POSTGRES_URL_ENV} is set but {POSTGRES_ROOT_CERT_ENV} is not: run scripts/test"),
        },
        _ => local_server_or_panic().root_cert.clone(),
    }
}

fn local_server_or_panic() -> &'static LocalServer {
    match local_server() {
        Ok(server) => server,
        Err(e) => panic!("{e}"),
    }
}

fn psql_binary() -> PathBuf {
    match pg_bin_dir() {
        Some(dir) if dir.join("psql").is_file() => dir.join("psql"),
        _ => PathBuf::from("psql"),
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `pg_ctl`.
fn pg_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(PG_LIB)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

struct LocalServer {
    url: String,
    root_cert: PathBuf,
    /// Never written, never dropped: its closing at process exit is the watchdog's signal.
    _lifeline: ChildStdin,
}

fn local_server() -> Result<&'static LocalServer, &'static str> {
    static SERVER: OnceLock<Result<LocalServer, String>> = OnceLock::new();
    SERVER.get_or_init(start_local_server).as_ref().map_err(String::as_str)
}

fn start_local_server() -> Result<LocalServer, String> {
    let bin = pg_bin_dir().ok_or_else(|| {
        format!(
            "PostgreSQL server binaries not found (no {PG_LIB}/*/bin/initdb): \
             run scripts/test, or apt-get install postgresql, or set {POSTGRES_URL_ENV}"
        )
    })?;
    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("gh-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp dir for PostgreSQL: {e}"))?
        .keep();
    let data = dir.join("data");
    let lifeline = spawn_watchdog(&dir, &data, &bin.join("pg_ctl"), as_postgres)?;
    if as_postgres {
        run(Command::new("chown").arg("postgres:postgres").arg(&dir), "chown")?;
    }

    run(
        pg_command(as_postgres, &bin.join("initdb"), &dir)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .args(["--no-sync", "--no-instructions"]),
        "initdb",
    )?;
    let (cert, key) = make_certificate(&dir, as_postgres)?;
    let mut conf = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .map_err(|e| format!("cannot open postgresql.conf: {e}"))?;
    writeln!(
        conf,
        "\n# gatehouse-testkit\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
         fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n\
         ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'",
        dir.display(),
        cert.display(),
        key.display()
    )
    .map_err(|e| format!("cannot write postgresql.conf: {e}"))?;

    // A free port can be taken by someone else before the server binds it: try another.
    let log = dir.join("postgres.log");
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = crate::free_port();
        let started = run(
            pg_command(as_postgres, &bin.join("pg_ctl"), &dir)
                .arg("start")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "-o", &format!("-p {port}")]),
            "pg_ctl start",
        );
        match started {
            Ok(()) => {
                return Ok(LocalServer {
                    url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    root_cert: cert,
                    _lifeline: lifeline,
                });
            }
            Err(e) => {
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = format!("{e}; server log: {}", log_text.trim());
            }
        }
    }
    Err(last_error)
}

/// A self-signed P-256 certificate for 127.0.0.1 and its key in `dir`, the key readable by the
/// server's user only (PostgreSQL refuses a key others can read). Returns (certificate, key).
fn make_certificate(dir: &Path, as_postgres: bool) -> Result<(PathBuf, PathBuf), String> {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    run(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null()),
        "openssl req (the openssl command; apt-get install openssl)",
    )?;
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| format!("cannot chmod {}: {e}", key.display()))?;
    if as_postgres {
        run(Command::new("chown").arg("postgres:postgres").arg(&cert).arg(&key), "chown")?;
    }
    Ok((cert, key))
}

/// A shell in its own process group (so a Ctrl-C aimed at the tests does not kill it first) that
/// waits for end-of-file on its stdin, then stops the server and removes `dir`.
fn spawn_watchdog(dir: &Path, data: &Path, pg_ctl: &Path, as_postgres: bool) -> Result<ChildStdin, String> {
    const SCRIPT: &str = r#"
read -r _ignored
if [ -f "$2/postmaster.pid" ]; then
    if [ "$4" = yes ]; then runuser -u postgres -- "$3" stop -D "$2" -m immediate -w
    else "$3" stop -D "$2" -m immediate -w; fi
fi
rm -rf "$1"
"#;
    let mut child = Command::new("sh")
        .args(["-c", SCRIPT, "gatehouse-testkit-pg-watchdog"])
        .arg(dir)
        .arg(data)
        .arg(pg_ctl)
        .arg(if as_postgres { "yes" } else { "no" })
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot spawn sh for the PostgreSQL watchdog: {e}"))?;
    child.stdin.take().ok_or_else(|| "the watchdog has no stdin".to_owned())
}

fn pg_command(as_postgres: bool, program: &Path, dir: &Path) -> Command {
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    // The postgres user may not be allowed into our working directory.
    command.current_dir(dir).stdin(Stdio::null());
    command
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output: Output = command.output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim()))
    }
}

/// `/proc/self` belongs to the process's effective user.
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_accepts_queries() {
        let url = fresh_database_url();
        assert!(url.contains("/gh_test_"), "{url}");
        assert_eq!(psql(&url, "select 1").trim(), "1");
    }

    #[test]
    fn each_call_is_a_different_empty_database() {
        let a = fresh_database_url();
        let b = fresh_database_url();
        assert_ne!(a, b);
        psql(&a, "create table t (x int); insert into t values (1)");
        assert_eq!(psql(&b, "select count(*) from pg_tables where tablename = 't'").trim(), "0");
    }
}
