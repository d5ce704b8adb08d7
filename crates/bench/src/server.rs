//! One `gatehouse serve` under measurement: spawned with its own data dir on a free loopback
//! port, timed from spawn to `/health/ready`, and read from `/proc/<pid>` for CPU and memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, killed on drop.
pub struct Server {
    pub base_url: String,
    /// Milliseconds from spawn to the first 200 from `/health/ready`.
    pub ready_ms: f64,
    /// VmRSS right after it became ready, bytes.
    pub idle_rss: u64,
    bin: PathBuf,
    env: Vec<(String, String)>,
    child: Child,
}

/// Everything a server of one run shares: binary, database, data dir.
#[derive(Clone)]
pub struct Setup {
    pub bin: PathBuf,
    pub database_url: String,
    pub data_dir: PathBuf,
}

impl Server {
    /// Spawns `bin serve` with `extra` settings on top of the bench's defaults and waits
    /// (≤ 30 s) for readiness.
    pub async fn start(setup: &Setup, extra: &[(&str, &str)]) -> Result<Server, String> {
        let port = free_port()?;
        let base_url = format!("http://127.0.0.1:{port}");
        let mut env = vec![
            ("GATEHOUSE_BIND".to_owned(), format!("127.0.0.1:{port}")),
            ("GATEHOUSE_ISSUER".to_owned(), base_url.clone()),
            ("GATEHOUSE_DATABASE_URL".to_owned(), setup.database_url.clone()),
            ("GATEHOUSE_DATA_DIR".to_owned(), setup.data_dir.display().to_string()),
            ("GATEHOUSE_MAIL__TRANSPORT".to_owned(), "log".to_owned()),
            // The load comes from one address, far above any per-IP limit: keep the per-IP
            // token check in the measured path with a limit no run reaches, and switch off the
            // sign-in limits (per IP, and per account: the bench signs one account in).
            ("GATEHOUSE_LIMITS__TOKEN_PER_IP_PER_MINUTE".to_owned(), "4000000000".to_owned()),
            ("GATEHOUSE_LIMITS__SIGN_IN_PER_IP_PER_MINUTE".to_owned(), "0".to_owned()),
            ("GATEHOUSE_LIMITS__SIGN_IN_PER_ACCOUNT".to_owned(), "0".to_owned()),
            // Attempts are counted before their password checks (race-proof lockout), so 100
            // sign-ins of one account in flight would count as 100 failures and lock it: keep
            // the lockout in the measured path with a threshold no run reaches.
            ("GATEHOUSE_ACCOUNTS__LOCKOUT__MAX_FAILURES".to_owned(), "100000".to_owned()),
        ];
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let log = std::fs::File::create(setup.data_dir.join(format!("server-{port}.log")))
            .map_err(|e| format!("cannot create the server log: {e}"))?;
        let started = Instant::now();
        let child = command(&setup.bin, &env)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", setup.bin.display()))?;
        let mut server = Server { base_url, ready_ms: 0.0, idle_rss: 0, bin: setup.bin.clone(), env, child };
        server.wait_ready(started).await?;
        server.idle_rss = server.memory().map(|m| m.rss).unwrap_or(0);
        Ok(server)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs `bin <args>` with the server's settings and parses its JSON output.
    pub fn cli(&self, args: &[&str]) -> Result<serde_json::Value, String> {
        let out = command(&self.bin, &self.env)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run gatehouse {args:?}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "gatehouse {} failed: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("gatehouse {args:?} printed no JSON: {e}"))
    }

    /// User plus system CPU seconds the server has used so far (`/proc/<pid>/stat`).
    pub fn cpu_seconds(&self) -> Result<f64, String> {
        cpu_seconds_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// VmRSS and VmHWM (`/proc/<pid>/status`), bytes.
    pub fn memory(&self) -> Result<Memory, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(|e| format!("cannot read /proc/{}/status: {e}", self.pid()))?;
        let kib = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
                * 1024
        };
        Ok(Memory { rss: kib("VmRSS:"), peak: kib("VmHWM:") })
    }

    /// Resets VmHWM to the current RSS (writing 5 to `/proc/<pid>/clear_refs`), so the next
    /// [`Server::memory`] shows the peak of what ran in between. Best effort.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    async fn wait_ready(&mut self, started: Instant) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let ready = self.url("/health/ready");
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("gatehouse serve exited ({status}) before it was ready"));
            }
            if let Ok(r) = http.get(&ready).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                self.ready_ms = started.elapsed().as_secs_f64() * 1000.0;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Err(format!("gatehouse serve not ready at {ready} after 30 s"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss: u64,
    pub peak: u64,
}

/// `bin` with exactly the given `GATEHOUSE_*` variables: an inherited one (such as
/// `GATEHOUSE_BENCH_POSTGRES_URL`) would be refused as an unknown setting.
fn command(bin: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GATEHOUSE_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// User plus system CPU seconds of a process (`/proc/<pid>/stat` or `/proc/self/stat`).
pub fn cpu_seconds_of(stat_path: &str) -> Result<f64, String> {
    let stat = std::fs::read_to_string(stat_path).map_err(|e| format!("cannot read {stat_path}: {e}"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Ok((tick(11) + tick(12)) as f64 / clock_ticks() as f64)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// USER_HZ: `getconf CLK_TCK`, 100 on every Linux this runs on when that is unavailable.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}
