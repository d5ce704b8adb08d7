//! The whole run on one database: a first start that migrates and makes keys, the fixtures
//! from the CLI, a timed restart on the existing database, every scenario, then a second server
//! that signs access tokens with RS256.

use std::path::PathBuf;
use std::time::Duration;

use crate::ceiling::Ceilings;
use crate::fixtures::{self, Accounts};
use crate::load::{Outcome, Shape};
use crate::scenarios;
use crate::server::{Server, Setup};

/// Connections for every scenario but password sign-in.
pub const CONNECTIONS: usize = 16;
/// Concurrent password sign-ins (issue 6: RSS under 100 concurrent sign-ins).
pub const SIGN_IN_CONNECTIONS: usize = 100;
/// Accounts the sign-ins rotate over.
const USERS: usize = 8;

/// One endpoint's line in the table.
pub struct Row {
    pub name: &'static str,
    pub connections: usize,
    pub outcome: Outcome,
    /// Operations per CPU-second one core could do if the endpoint did nothing but its
    /// expensive step (signing, argon2); `None` where no such step bounds it.
    pub ceiling: Option<f64>,
}

/// Everything measured on one database.
pub struct Backend {
    pub name: &'static str,
    pub rows: Vec<Row>,
    /// Spawn to ready, on the existing database (milliseconds), ES256 and RS256 restarts.
    pub ready_ms: Vec<f64>,
    /// VmRSS right after ready, bytes.
    pub idle_rss: u64,
}

impl Backend {
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }
}

pub struct Timing {
    pub warmup: Duration,
    pub measure: Duration,
}

pub async fn run(
    name: &'static str,
    bin: PathBuf,
    database_url: String,
    timing: &Timing,
    ceilings: &Ceilings,
) -> Result<Backend, String> {
    let data = tempfile::Builder::new()
        .prefix("gatehouse-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a data dir: {e}"))?;
    let setup = Setup { bin, database_url, data_dir: data.path().to_path_buf() };
    let run_id = format!("{}-{}", std::process::id(), name);
    say(&format!("{name}: first start (migrations, keys) and fixtures"));
    let accounts = {
        let first = Server::start(&setup, &[]).await?;
        Accounts::create(&first, &run_id, USERS)?
    };

    let server = Server::start(&setup, &[]).await?;
    let mut ready_ms = vec![server.ready_ms];
    let idle_rss = server.idle_rss;
    let http = fixtures::http_client()?;
    let cookie = fixtures::sign_in(&http, &server.base_url, &accounts.emails[0]).await?;
    let tokens =
        fixtures::code_flow(&http, &server.base_url, &accounts.portal, &cookie, "openid email").await?;
    let access_token = fixtures::member(&tokens, "access_token")?;

    let shape = Shape { connections: CONNECTIONS, warmup: timing.warmup, measure: timing.measure };
    let mut rows = Vec::new();
    let mut push = |name: &'static str, connections: usize, outcome: Outcome, ceiling: Option<f64>| {
        say(&format!(
            "{name:<16} {:>9.0}/s {:>9.0}/CPU-s p99 {:>7.1} ms errors {}{}",
            outcome.per_sec(),
            outcome.per_cpu_sec(),
            outcome.p99_ms,
            outcome.errors,
            outcome.first_error.as_deref().map(|e| format!(" (first: {e})")).unwrap_or_default()
        ));
        rows.push(Row { name, connections, outcome, ceiling });
    };
    say(&format!("{name}: measuring (ready in {:.0} ms, idle RSS {:.1} MB)", server.ready_ms, mb(idle_rss)));
    push(
        "discovery",
        CONNECTIONS,
        scenarios::get(&server, shape, "/.well-known/openid-configuration").await?,
        None,
    );
    push("jwks", CONNECTIONS, scenarios::get(&server, shape, "/.well-known/jwks.json").await?, None);
    let es256 = scenarios::client_credentials(&server, shape, &accounts.machine).await?;
    push("cc_es256", CONNECTIONS, es256, Some(ceilings.signing(1, 0)));
    // A refresh and a code exchange with scope openid sign an ES256 access token and an RS256
    // ID token (the default ID token alg).
    let refresh = scenarios::refresh(&server, shape, &accounts, &cookie).await?;
    push("refresh", CONNECTIONS, refresh, Some(ceilings.signing(1, 1)));
    let exchange = scenarios::code_exchange(&server, shape, &accounts, &cookie).await?;
    push("code_exchange", CONNECTIONS, exchange, Some(ceilings.signing(1, 1)));
    push("userinfo", CONNECTIONS, scenarios::userinfo(&server, shape, &access_token).await?, None);
    let introspect = scenarios::introspect(&server, shape, &accounts.portal, &access_token).await?;
    push("introspect", CONNECTIONS, introspect, None);
    let sign_in_shape = Shape { connections: SIGN_IN_CONNECTIONS, ..shape };
    let sign_in = scenarios::password_sign_in(&server, sign_in_shape, &accounts).await?;
    push("password_signin", SIGN_IN_CONNECTIONS, sign_in, Some(ceilings.argon2_per_sec));
    drop(server);

    let rs256 = Server::start(&setup, &[("GATEHOUSE_KEYS__ACCESS_TOKEN_ALG", "RS256")]).await?;
    ready_ms.push(rs256.ready_ms);
    let outcome = scenarios::client_credentials(&rs256, shape, &accounts.machine).await?;
    push("cc_rs256", CONNECTIONS, outcome, Some(ceilings.signing(0, 1)));
    drop(rs256);
    Ok(Backend { name, rows, ready_ms, idle_rss })
}

pub fn say(line: &str) {
    eprintln!("gatehouse-load: {line}");
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}
