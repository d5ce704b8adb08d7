//! The one table scripts/bench prints, and each target of issue 6 as PASS or MISS.

use std::fmt::Write as _;

use crate::ceiling::Ceilings;
use crate::suite::{Backend, mb};

/// Discovery and JWKS: requests per CPU-second of one core.
const STATIC_PER_CORE: f64 = 20_000.0;
const INTROSPECT_PER_SEC: f64 = 5_000.0;
const IDLE_RSS_MB: f64 = 20.0;
const READY_MS: f64 = 200.0;
const TOKEN_P99_MS: f64 = 10.0;
/// Allowed on top of the hash pool's argon2 memory under 100 concurrent sign-ins.
const SIGN_IN_RSS_SLACK_MB: f64 = 40.0;

/// What the sign-in memory target depends on: the server's hash pool and argon2 memory.
pub struct HashBudget {
    pub threads: usize,
    pub memory_kib: u32,
}

impl HashBudget {
    fn limit_mb(&self) -> f64 {
        self.threads as f64 * f64::from(self.memory_kib) / 1024.0 + SIGN_IN_RSS_SLACK_MB
    }
}

pub fn render(ceilings: &Ceilings, backends: &[Backend], budget: &HashBudget) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ceilings, one thread, per CPU-second: ES256 {:.0} signatures/s, RS256 {:.0} signatures/s, \
         argon2id {:.1} verifications/s",
        ceilings.es256_per_sec, ceilings.rs256_per_sec, ceilings.argon2_per_sec
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<9} {:<16} {:>5} {:>9} {:>10} {:>9} {:>8} {:>8} {:>7} {:>9}",
        "db", "endpoint", "conns", "req/s", "req/CPU-s", "ceiling%", "p50 ms", "p99 ms", "errors", "peak MB"
    );
    for backend in backends {
        for row in &backend.rows {
            let o = &row.outcome;
            let of_ceiling = row
                .ceiling
                .map(|c| format!("{:.0}%", 100.0 * o.per_cpu_sec() / c))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<9} {:<16} {:>5} {:>9.0} {:>10.0} {:>9} {:>8.2} {:>8.2} {:>7} {:>9.1}",
                backend.name,
                row.name,
                row.connections,
                o.per_sec(),
                o.per_cpu_sec(),
                of_ceiling,
                o.p50_ms,
                o.p99_ms,
                o.errors,
                mb(o.memory.peak)
            );
        }
        let ready: Vec<String> = backend.ready_ms.iter().map(|ms| format!("{ms:.0} ms")).collect();
        let _ = writeln!(
            out,
            "{:<9} idle RSS {:.1} MB; start to ready on an existing database: {}",
            backend.name,
            mb(backend.idle_rss),
            ready.join(", ")
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "targets (issue 6):");
    for backend in backends {
        for (ok, line) in targets(backend, budget) {
            let _ = writeln!(out, "  {} {:<9} {line}", if ok { "PASS" } else { "MISS" }, backend.name);
        }
    }
    out
}

/// Each target that applies to `backend`: (met, what was measured against what).
fn targets(b: &Backend, budget: &HashBudget) -> Vec<(bool, String)> {
    let mut t = Vec::new();
    let mut ratio = |name: &str, label: &str, want: f64| {
        if let Some(row) = b.row(name)
            && let Some(ceiling) = row.ceiling
        {
            let got = row.outcome.per_cpu_sec() / ceiling;
            t.push((
                got >= want && row.outcome.errors == 0,
                format!("{label}: {:.0}% of its ceiling per core (want ≥ {:.0}%)", got * 100.0, want * 100.0),
            ));
        }
    };
    ratio("cc_es256", "client_credentials ES256", 0.50);
    ratio("cc_rs256", "client_credentials RS256", 0.80);
    ratio("password_signin", "password sign-in", 0.85);
    if b.name == "sqlite" {
        ratio("refresh", "refresh grant", 0.70);
    }
    for name in ["discovery", "jwks"] {
        if let Some(row) = b.row(name) {
            let got = row.outcome.per_cpu_sec();
            t.push((got >= STATIC_PER_CORE, format!("{name}: {got:.0} req/s per core (want ≥ 20000)")));
        }
    }
    if b.name == "sqlite"
        && let Some(row) = b.row("introspect")
    {
        let got = row.outcome.per_sec();
        t.push((got >= INTROSPECT_PER_SEC, format!("introspection: {got:.0} req/s (want ≥ 5000)")));
    }
    if let Some(row) = b.row("password_signin") {
        let got = mb(row.outcome.memory.peak);
        t.push((
            got <= budget.limit_mb(),
            format!(
                "RSS under {} concurrent sign-ins: {got:.1} MB (want ≤ {} × {} KiB + 40 MB = {:.1} MB)",
                row.connections,
                budget.threads,
                budget.memory_kib,
                budget.limit_mb()
            ),
        ));
    }
    let idle = mb(b.idle_rss);
    t.push((idle <= IDLE_RSS_MB, format!("idle RSS: {idle:.1} MB (want ≤ 20 MB)")));
    let ready = b.ready_ms.iter().copied().fold(f64::INFINITY, f64::min);
    t.push((ready <= READY_MS, format!("start to ready, existing database: {ready:.0} ms (want ≤ 200 ms)")));
    if let Some(row) = b.row("cc_es256") {
        let got = row.outcome.p99_ms;
        t.push((
            got <= TOKEN_P99_MS,
            format!(
                "token endpoint p99 at {} connections (ES256): {got:.1} ms (want ≤ 10 ms)",
                row.connections
            ),
        ));
    }
    t
}
