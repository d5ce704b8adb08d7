//! The real `gatehouse` binary on a free loopback port, with its own data dir and database.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const READY_POLL: Duration = Duration::from_millis(50);

/// A running `gatehouse serve`, killed on drop.
pub struct Gatehouse {
    /// `http://127.0.0.1:PORT`, also its issuer.
    pub base_url: String,
    /// Its `GATEHOUSE_DATA_DIR`; holds `stdout.log` and `stderr.log` too.
    pub data_dir: PathBuf,
    /// Its `GATEHOUSE_DATABASE_URL`.
    pub database_url: String,
    bin: PathBuf,
    env: Vec<(String, String)>,
    child: Child,
    // Dropped after `child` is killed (see `Drop`).
    _data: TempDir,
}

/// Settings for [`Gatehouse`] before it starts: `Gatehouse::builder(bin).database(url).env(k, v)`.
pub struct GatehouseBuilder {
    bin: PathBuf,
    database_url: Option<String>,
    port: Option<u16>,
    env: Vec<(String, String)>,
}

impl GatehouseBuilder {
    /// The database (`postgres://…` or `sqlite://…`); without it, a SQLite file in the data dir.
    pub fn database(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// The loopback port to listen on (from [`crate::free_port`]), for a test that must know
    /// the URL before the server starts (another server's settings name it); default: a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// One more environment variable for the server and for [`Gatehouse::cli`]; overrides the
    /// defaults this crate sets (e.g. `GATEHOUSE_PASSWORDS__ARGON2__MEMORY_KIB`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Spawns `<bin> serve` and waits (≤ 30 s) until `GET /health/ready` answers 200.
    /// Panics with the server's stderr if it exits or never gets ready. A free port picked here
    /// can be taken by another process before the server binds it: then it tries another.
    pub async fn start(self) -> Gatehouse {
        let attempts = if self.port.is_some() { 1 } else { 5 };
        for attempt in 1..=attempts {
            let port = self.port.unwrap_or_else(crate::free_port);
            let mut gatehouse = self.spawn(port);
            match gatehouse.wait_ready().await {
                Ok(()) => return gatehouse,
                Err(why) if attempt < attempts && why.contains("Address already in use") => continue,
                Err(why) => panic!("{why}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn spawn(&self, port: u16) -> Gatehouse {
        let data = tempfile::Builder::new()
            .prefix("gatehouse-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a data dir for gatehouse: {e}"));
        let data_dir = data.path().to_path_buf();
        let base_url = format!("http://127.0.0.1:{port}");
        let database_url = self
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("gatehouse.db").display()));
        let mut env = vec![
            ("GATEHOUSE_BIND".to_owned(), format!("127.0.0.1:{port}")),
            ("GATEHOUSE_ISSUER".to_owned(), base_url.clone()),
            ("GATEHOUSE_DATABASE_URL".to_owned(), database_url.clone()),
            ("GATEHOUSE_DATA_DIR".to_owned(), data_dir.display().to_string()),
            // Cheap hashing: a test signs in many times and never needs a strong hash.
            ("GATEHOUSE_PASSWORDS__ARGON2__MEMORY_KIB".to_owned(), "1024".to_owned()),
        ];
        env.extend(self.env.iter().cloned());

        let child = spawn_serve(&self.bin, &env, &data_dir);
        Gatehouse { base_url, data_dir, database_url, bin: self.bin.clone(), env, child, _data: data }
    }
}

impl Gatehouse {
    /// Starts `bin` (pass `env!("CARGO_BIN_EXE_gatehouse")`) on `database_url`.
    pub async fn start(bin: &Path, database_url: &str) -> Gatehouse {
        Self::builder(bin).database(database_url).start().await
    }

    /// A builder for extra environment variables or a default SQLite database.
    pub fn builder(bin: impl AsRef<Path>) -> GatehouseBuilder {
        GatehouseBuilder { bin: bin.as_ref().to_path_buf(), database_url: None, port: None, env: Vec::new() }
    }

    /// `base_url` followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Runs `<bin> <args>` to completion with the server's environment (same database).
    pub fn cli(&self, args: &[&str]) -> Output {
        command(&self.bin, &self.env)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", self.bin.display()))
    }

    /// [`Gatehouse::cli`], asserting success and parsing stdout as JSON.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.cli(args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "gatehouse {args:?} failed ({}):\nstderr: {}\nstdout: {stdout}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("gatehouse {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// What the server wrote to stderr so far (its log), for assertions and failure messages.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("stderr.log")).unwrap_or_default()
    }

    /// What the server wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("stdout.log")).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL (`kill -9`: no shutdown, no flush, no goodbye) and reaps
    /// it; for crash tests. A later [`restart`](Self::restart) starts it again.
    pub fn kill_hard(&mut self) {
        self.kill();
    }

    /// Starts the server again on the same port, database and data dir (after
    /// [`kill_hard`](Self::kill_hard), or to stop a running one first) and waits until it is
    /// ready. Its logs are appended to the same files.
    pub async fn restart(&mut self) {
        self.kill();
        self.child = spawn_serve(&self.bin, &self.env, &self.data_dir);
        if let Err(why) = self.wait_ready().await {
            panic!("{why}");
        }
    }

    /// `Err` says why it never got ready, with its stderr.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"));
        let ready = self.url("/health/ready");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "gatehouse serve exited ({status}) before it was ready:\n{}",
                    self.stderr()
                ));
            }
            let last = match http.get(&ready).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return Ok(()),
                Ok(response) => format!("status {}", response.status()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!(
                    "gatehouse serve not ready at {ready} after {READY_TIMEOUT:?} ({last}):\n{}",
                    self.stderr()
                ));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    fn kill(&mut self) {
        // SIGKILL on Unix. Already exited is fine; either way reap it so no zombie outlives the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gatehouse {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh SQLite database URL (`sqlite://<dir>/gatehouse.db`); keep the `TempDir` alive as long
/// as the database is used.
pub fn fresh_sqlite_url() -> (TempDir, String) {
    let dir = tempfile::Builder::new()
        .prefix("gatehouse-sqlite-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temp dir for SQLite: {e}"));
    let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
    (dir, url)
}

/// Spawns `<bin> serve` with `env`, appending its output to `stdout.log` and `stderr.log` in
/// `data_dir`.
fn spawn_serve(bin: &Path, env: &[(String, String)], data_dir: &Path) -> Child {
    let log = |name: &str| {
        File::options()
            .create(true)
            .append(true)
            .open(data_dir.join(name))
            .unwrap_or_else(|e| panic!("cannot open {name} in the data dir: {e}"))
    };
    command(bin, env)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log("stdout.log"))
        .stderr(log("stderr.log"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()))
}

/// `bin` with exactly the given `GATEHOUSE_*` variables: inherited ones (such as the test
/// runner's `GATEHOUSE_TEST_POSTGRES_URL`) would be read as unknown settings.
fn command(bin: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(bin);
    let inherited: Vec<OsString> = std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| key.to_string_lossy().starts_with("GATEHOUSE_"))
        .collect();
    for key in inherited {
        command.env_remove(key);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command
}
