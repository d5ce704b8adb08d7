//! The load loop: a fixed number of connections, each a task that repeats one operation
//! back-to-back for a warm-up and then a measured window. The server's CPU time and peak RSS are
//! read at the window's edges, so requests per CPU-second compare with a one-core ceiling
//! whatever else the machine is doing.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::{Memory, Server};

/// How long and how wide one scenario runs.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// What one scenario measured.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub ops: u64,
    pub errors: u64,
    pub secs: f64,
    pub cpu_secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub memory: Memory,
    /// The first error seen, to say why a scenario failed.
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn per_sec(&self) -> f64 {
        self.ops as f64 / self.secs.max(1e-9)
    }

    /// Operations per second of server CPU (user + system).
    pub fn per_cpu_sec(&self) -> f64 {
        if self.cpu_secs <= 0.0 { 0.0 } else { self.ops as f64 / self.cpu_secs }
    }
}

/// Runs `op(connection)` on `shape.connections` tasks. `op` returns `Err(reason)` for a failed
/// operation (a non-success status, an unexpected body, a transport error).
pub async fn run<F, Fut>(server: &Server, shape: Shape, op: F) -> Result<Outcome, String>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let window_start = start + shape.warmup;
    let window_end = window_start + shape.measure;
    let mut tasks = Vec::with_capacity(shape.connections);
    for connection in 0..shape.connections {
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let mut latencies_us: Vec<u32> = Vec::new();
            let (mut errors, mut first_error) = (0u64, None);
            loop {
                let began = Instant::now();
                if began >= window_end {
                    break;
                }
                let result = op(connection).await;
                let ended = Instant::now();
                if ended < window_start || ended > window_end {
                    continue;
                }
                match result {
                    Ok(()) => latencies_us
                        .push(u32::try_from(ended.duration_since(began).as_micros()).unwrap_or(u32::MAX)),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies_us, errors, first_error)
        }));
    }

    tokio::time::sleep_until(window_start.into()).await;
    let cpu_before = server.cpu_seconds()?;
    server.reset_peak();
    let profiler = profile(server, shape.measure);
    tokio::time::sleep_until(window_end.into()).await;
    if let Some(mut perf) = profiler {
        let _ = perf.wait();
    }
    let cpu_after = server.cpu_seconds()?;
    let memory = server.memory()?;

    let mut outcome = Outcome {
        secs: shape.measure.as_secs_f64(),
        cpu_secs: cpu_after - cpu_before,
        memory,
        ..Outcome::default()
    };
    let mut all: Vec<u32> = Vec::new();
    for task in tasks {
        let (latencies, errors, first_error) = task.await.map_err(|e| format!("a load task failed: {e}"))?;
        all.extend(latencies);
        outcome.errors += errors;
        if outcome.first_error.is_none() {
            outcome.first_error = first_error;
        }
    }
    outcome.ops = all.len() as u64;
    all.sort_unstable();
    outcome.p50_ms = percentile(&all, 0.50);
    outcome.p99_ms = percentile(&all, 0.99);
    Ok(outcome)
}

/// With `GATEHOUSE_BENCH_PERF_DIR` set, records the server with `perf record -g` for the
/// measured window, into `<dir>/<n>-<pid>.data` (n counts the windows of this run, in the order
/// the table lists them). For finding what bounds an endpoint (docs/performance.md); the perf
/// sampling adds a little server CPU.
fn profile(server: &Server, window: Duration) -> Option<std::process::Child> {
    static WINDOWS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::var_os("GATEHOUSE_BENCH_PERF_DIR")?;
    let n = WINDOWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = std::path::Path::new(&dir).join(format!("{n:02}-{}.data", server.pid()));
    std::process::Command::new("perf")
        .args(["record", "-q", "-F", "999", "-g", "-p", &server.pid().to_string(), "-o"])
        .arg(out)
        .args(["--", "sleep", &format!("{:.3}", window.as_secs_f64())])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// Nearest-rank percentile of sorted microsecond latencies, in milliseconds.
fn percentile(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let us: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&us, 0.50), 50.0);
        assert_eq!(percentile(&us, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.99), 0.0);
        assert_eq!(percentile(&[7000], 0.01), 7.0);
    }
}
