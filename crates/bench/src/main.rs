//! `gatehouse-load`: the load generator behind `scripts/bench`. It drives a real `gatehouse
//! serve` over loopback at fixed concurrency, reads the server's CPU time and memory from
//! `/proc`, and compares each endpoint with what one core can do at its expensive step (JWT
//! signing, argon2id), measured in the same run.
//!
//! A tool, not part of the server: it depends on `tokens` and `identity` only for the ceilings,
//! and talks to the server as any client would.

mod ceiling;
mod fixtures;
mod load;
mod report;
mod scenarios;
mod server;
mod suite;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use identity::Argon2Params;

#[derive(Parser)]
#[command(name = "gatehouse-load", about = "Load and ceilings for gatehouse (scripts/bench)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Raw ES256 and RS256 signatures/s and argon2id verifications/s (default parameters), one
    /// thread, per CPU-second; prints JSON.
    BenchCeiling {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 2.0)]
        secs: f64,
    },
    /// Every endpoint on SQLite (and PostgreSQL with --postgres), then the table and targets.
    Suite {
        /// The gatehouse binary to run (a release build).
        #[arg(long)]
        bin: PathBuf,
        /// A PostgreSQL URL to run the endpoints on as well.
        #[arg(long)]
        postgres: Option<String>,
        /// Measured seconds per endpoint.
        #[arg(long, default_value_t = 4.0)]
        secs: f64,
        /// Warm-up seconds per endpoint, not measured.
        #[arg(long, default_value_t = 1.0)]
        warmup: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start a runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::BenchCeiling { secs } => {
                let ceilings = ceiling::measure(Argon2Params::default(), seconds(secs)).await?;
                Ok(serde_json::to_string_pretty(&ceilings.to_json()).unwrap_or_default())
            }
            Command::Suite { bin, postgres, secs, warmup } => suite(bin, postgres, secs, warmup).await,
        }
    });
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

async fn suite(bin: PathBuf, postgres: Option<String>, secs: f64, warmup: f64) -> Result<String, String> {
    let params = Argon2Params::default();
    suite::say("measuring ceilings (one thread)");
    let ceilings = ceiling::measure(params.clone(), Duration::from_secs(2)).await?;
    let timing = suite::Timing { warmup: seconds(warmup), measure: seconds(secs) };
    let sqlite_dir =
        tempfile::Builder::new().prefix("gatehouse-bench-db-").tempdir().map_err(|e| e.to_string())?;
    let sqlite_url = format!("sqlite://{}", sqlite_dir.path().join("gatehouse.db").display());
    let mut backends = vec![suite::run("sqlite", bin.clone(), sqlite_url, &timing, &ceilings).await?];
    if let Some(url) = postgres {
        backends.push(suite::run("postgres", bin, url, &timing, &ceilings).await?);
    }
    // The server sizes its hash pool the same way (passwords.hash_threads = 0: one per core).
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let budget = report::HashBudget { threads, memory_kib: params.memory_kib };
    Ok(report::render(&ceilings, &backends, &budget))
}

fn seconds(secs: f64) -> Duration {
    Duration::from_secs_f64(secs.clamp(0.1, 600.0))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("gatehouse-load: {message}");
    ExitCode::FAILURE
}
