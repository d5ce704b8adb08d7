//! Prometheus metrics, served at `GET /metrics` (text exposition format 0.0.4).
//!
//! Every label value comes from a closed set, so the number of series stays bounded whatever
//! clients send: HTTP routes are actix's match pattern (`/signin/password`, never the raw path
//! or its query), unknown paths are `unmatched`, methods outside the usual seven are `other`,
//! and grant types outside the known ones are `other`.
//!
//! The counters live in one process-wide registry (they count what this process did; each node
//! is scraped on its own). Gauges that describe shared or pooled state (the argon2 pool, the
//! outbox) are read when scraped.
//!
//! | metric | labels |
//! |---|---|
//! | `gatehouse_http_requests_total` | `method`, `route`, `status` |
//! | `gatehouse_http_request_duration_seconds` (histogram) | `method`, `route`, `status` |
//! | `gatehouse_sign_ins_total` | `method` (`password`, `email_code`), `result` (`success`, `failure`, `locked`) |
//! | `gatehouse_tokens_issued_total` | `grant_type` |
//! | `gatehouse_hash_pool_waiting`, `_in_flight`, `_threads` | |
//! | `gatehouse_outbox_messages` | `state` (`pending`, `sending`, `failed`, `in_doubt`), all nodes together |

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::http::Method;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label of a request whose path matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Grant types counted by name (RFC 6749 §4.1.3, §6, §4.4); anything else is `other`.
const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// How a citizen proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    /// The 6-digit code sent by email.
    EmailCode,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::EmailCode => "email_code",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInResult {
    Success,
    /// Wrong or unknown credentials.
    Failure,
    /// The account is locked (or this failure locked it).
    Locked,
}

impl SignInResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Locked => "locked",
        }
    }
}

impl From<&identity::SignInOutcome> for SignInResult {
    fn from(outcome: &identity::SignInOutcome) -> Self {
        match outcome {
            identity::SignInOutcome::Authenticated(_) => Self::Success,
            identity::SignInOutcome::Locked { .. } => Self::Locked,
            identity::SignInOutcome::Invalid { .. } => Self::Failure,
        }
    }
}

/// `true`: success; `false`: failure.
impl From<bool> for SignInResult {
    fn from(success: bool) -> Self {
        if success { Self::Success } else { Self::Failure }
    }
}

/// Counts one sign-in attempt.
pub fn sign_in(method: SignInMethod, result: impl Into<SignInResult>) {
    METRICS.sign_ins.with_label_values(&[method.as_str(), result.into().as_str()]).inc();
}

/// Counts one successful token response of the token endpoint, by its `grant_type`.
pub fn token_issued(grant: &str) {
    METRICS.tokens.with_label_values(&[grant_label(grant)]).inc();
}

/// The limits a request can be refused by (`http/limits.rs`, `flows/password.rs`).
pub const RATE_LIMITS: [&str; 5] = ["sign_in", "mail", "links", "token", "account"];

/// Counts one request refused with 429 by `limit`, one of [`RATE_LIMITS`].
pub fn rate_limited(limit: &'static str) {
    METRICS.rate_limited.with_label_values(&[limit]).inc();
}

/// Counts one HTTP request and observes its latency. `route` is the match pattern.
pub fn observe_request(method: &Method, route: Option<&str>, status: u16, elapsed: Duration) {
    let status = status.to_string();
    let labels = [method_label(method), route.unwrap_or(UNMATCHED), status.as_str()];
    METRICS.http_requests.with_label_values(&labels).inc();
    METRICS.http_duration.with_label_values(&labels).observe(elapsed.as_secs_f64());
}

/// What the scrape reads from the running process and the database.
pub struct Gauges {
    pub hash_waiting: usize,
    pub hash_in_flight: usize,
    pub hash_threads: usize,
    /// Outbox rows by state; `None` if the database could not be asked (the series are then
    /// left out rather than reported as zero).
    pub outbox: Option<Vec<(String, i64)>>,
}

/// The text exposition of every metric: the process's counters, then `gauges`.
pub fn render(gauges: &Gauges) -> String {
    let mut families = METRICS.registry.gather();
    match gauge_families(gauges) {
        Ok(more) => families.extend(more),
        Err(e) => tracing::error!(error = %e, "cannot build the metrics gauges"),
    }
    prometheus::TextEncoder::new().encode_to_string(&families).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot encode metrics");
        String::new()
    })
}

/// The scrape-time gauges, in a registry of their own made for this scrape: no shared state
/// for two concurrent scrapes to race on.
fn gauge_families(gauges: &Gauges) -> prometheus::Result<Vec<prometheus::proto::MetricFamily>> {
    let registry = Registry::new();
    for (name, help, value) in [
        ("gatehouse_hash_pool_waiting", "Password hashes waiting for an argon2 thread.", gauges.hash_waiting),
        (
            "gatehouse_hash_pool_in_flight",
            "Password hashes queued on or running on an argon2 thread.",
            gauges.hash_in_flight,
        ),
        ("gatehouse_hash_pool_threads", "argon2 threads (hashes at once).", gauges.hash_threads),
    ] {
        let gauge = IntGauge::new(name, help)?;
        gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        registry.register(Box::new(gauge))?;
    }
    if let Some(counts) = &gauges.outbox {
        let outbox = IntGaugeVec::new(
            Opts::new("gatehouse_outbox_messages", "Mail in the outbox not yet sent, by state (all nodes)."),
            &["state"],
        )?;
        for state in OUTBOX_STATES {
            let n = counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            outbox.with_label_values(&[state]).set(n);
        }
        registry.register(Box::new(outbox))?;
    }
    Ok(registry.gather())
}

/// Whether a scrape may read the metrics: always when no token is configured, else only with
/// `Authorization: Bearer <token>`. Compared as SHA-256 digests in constant time, so neither
/// the token's bytes nor its length leak through timing.
pub fn authorized(authorization: Option<&[u8]>, token: &str) -> bool {
    use aws_lc_rs::digest::{SHA256, digest};
    if token.is_empty() {
        return true;
    }
    // RFC 6750 §2.1; the scheme name is case-insensitive (RFC 9110 §11.1).
    let presented = authorization.and_then(|h| match h.iter().position(|b| *b == b' ') {
        Some(i) if h[..i].eq_ignore_ascii_case(b"bearer") => Some(&h[i + 1..]),
        _ => None,
    });
    let Some(presented) = presented else {
        return false;
    };
    let (a, b) = (digest(&SHA256, presented), digest(&SHA256, token.as_bytes()));
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_ref(), b.as_ref()).is_ok()
}

const OUTBOX_STATES: [&str; 4] = ["pending", "sending", "failed", "in_doubt"];

fn grant_label(grant: &str) -> &'static str {
    GRANT_TYPES.into_iter().find(|g| *g == grant).unwrap_or("other")
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    sign_ins: IntCounterVec,
    tokens: IntCounterVec,
    rate_limited: IntCounterVec,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "fixed, valid metric names: a failure is a bug caught by any test"
    )]
    Metrics::new().expect("metric definitions are valid")
});

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let http = ["method", "route", "status"];
        let m = Metrics {
            http_requests: IntCounterVec::new(
                Opts::new("gatehouse_http_requests_total", "HTTP requests, by route pattern and status."),
                &http,
            )?,
            http_duration: HistogramVec::new(
                HistogramOpts::new(
                    "gatehouse_http_request_duration_seconds",
                    "Time from request to response headers, by route pattern and status.",
                ),
                &http,
            )?,
            sign_ins: IntCounterVec::new(
                Opts::new("gatehouse_sign_ins_total", "Sign-in attempts, by method and result."),
                &["method", "result"],
            )?,
            tokens: IntCounterVec::new(
                Opts::new("gatehouse_tokens_issued_total", "Token responses issued, by grant type."),
                &["grant_type"],
            )?,
            rate_limited: IntCounterVec::new(
                Opts::new(
                    "gatehouse_rate_limited_total",
                    "Requests refused with 429, by the limit they hit.",
                ),
                &["limit"],
            )?,
            registry,
        };
        m.registry.register(Box::new(m.http_requests.clone()))?;
        m.registry.register(Box::new(m.http_duration.clone()))?;
        m.registry.register(Box::new(m.sign_ins.clone()))?;
        m.registry.register(Box::new(m.tokens.clone()))?;
        m.registry.register(Box::new(m.rate_limited.clone()))?;
        // Every sign-in and grant series exists from the start at 0, so rate() and alerts see
        // the first event, and a dashboard shows "none yet" rather than "no data".
        for method in [SignInMethod::Password, SignInMethod::EmailCode] {
            for result in [SignInResult::Success, SignInResult::Failure, SignInResult::Locked] {
                m.sign_ins.with_label_values(&[method.as_str(), result.as_str()]);
            }
        }
        for grant in GRANT_TYPES {
            m.tokens.with_label_values(&[grant]);
        }
        for limit in RATE_LIMITS {
            m.rate_limited.with_label_values(&[limit]);
        }
        Ok(m)
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
