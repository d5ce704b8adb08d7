//! Connections: one binary, two backends. The backend is picked from the URL scheme by our own
//! r2d2 manager, because `MultiConnection::establish` tries every backend in turn and hides the
//! real reason a connect failed.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::{ConnectionError, PgConnection, SqliteConnection};

/// A connection to either backend. Queries are written once against it; only migrations and
/// connection set-up look at the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// libpq parameters added unless the URL sets them:
/// - `connect_timeout`: a wrong host should fail start-up in seconds, not hang;
/// - `gssencmode=disable`: a system libpq with GSSAPI initialises Kerberos on every connect
///   under the default (`prefer`), and a pool thread still connecting while the process exits
///   aborted it inside the Kerberos library (`k5_mutex_lock` assertion, seen on short CLI
///   commands). The libpq compiled in now (pq-src) has no GSSAPI, so this only keeps a build
///   against a system libpq safe.
const PG_DEFAULTS: [(&str, &str); 2] = [("connect_timeout", "5"), ("gssencmode", "disable")];

/// Per-connection SQLite settings. WAL lets readers run beside the one writer; `busy_timeout`
/// makes a writer wait for the lock instead of failing; foreign keys are off by default in
/// SQLite and the `ON DELETE CASCADE`s depend on them; `synchronous=NORMAL` is durable enough
/// under WAL (a power cut may lose the last commits, never corrupt the file).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                              PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL taken apart: the backend and what its driver is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub backend: Backend,
    /// A file path for SQLite, a libpq URI for PostgreSQL.
    pub address: String,
}

impl Target {
    /// `sqlite://path`, `sqlite:path`, `postgres://…`, `postgresql://…`; `None` for anything else.
    pub fn parse(url: &str) -> Option<Target> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            return (!path.is_empty()).then(|| Target { backend: Backend::Sqlite, address: path.to_owned() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut address = url.to_owned();
            for (key, default) in PG_DEFAULTS {
                if !address.contains(&format!("{key}=")) {
                    let sep = if address.contains('?') { '&' } else { '?' };
                    address = format!("{address}{sep}{key}={default}");
                }
            }
            return Some(Target { backend: Backend::Postgres, address });
        }
        None
    }
}

/// The URL with any password replaced by `***`, fit for a log line or an error message.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens connections of the one backend the URL named.
#[derive(Debug)]
pub struct Manager {
    pub target: Target,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConnection, ConnectionError> {
        match self.target.backend {
            Backend::Sqlite => SqliteConnection::establish(&self.target.address).map(DbConnection::Sqlite),
            Backend::Postgres => PgConnection::establish(&self.target.address).map(DbConnection::Postgresql),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectionError> {
        conn.ping().map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Applies [`SQLITE_PRAGMAS`] to every new SQLite connection; PostgreSQL needs nothing.
#[derive(Debug)]
pub struct SqlitePragmas;

impl r2d2::CustomizeConnection<DbConnection, ConnectionError> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), ConnectionError> {
        match conn {
            DbConnection::Sqlite(c) => {
                c.batch_execute(SQLITE_PRAGMAS).map_err(ConnectionError::CouldntSetupConfiguration)
            }
            DbConnection::Postgresql(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        let t = Target::parse("sqlite://data/gatehouse.db").unwrap();
        assert_eq!((t.backend, t.address.as_str()), (Backend::Sqlite, "data/gatehouse.db"));
        assert_eq!(Target::parse("sqlite:///var/lib/g.db").unwrap().address, "/var/lib/g.db");
        assert_eq!(Target::parse("sqlite:g.db").unwrap().address, "g.db");
        let pg = Target::parse("postgresql://u@h/db").unwrap();
        assert_eq!(pg.backend, Backend::Postgres);
        assert_eq!(pg.address, "postgresql://u@h/db?connect_timeout=5&gssencmode=disable");
        assert_eq!(
            Target::parse("postgres://u@h/db?sslmode=require").unwrap().address,
            "postgres://u@h/db?sslmode=require&connect_timeout=5&gssencmode=disable"
        );
        assert_eq!(
            Target::parse("postgres://h/db?connect_timeout=1&gssencmode=prefer").unwrap().address,
            "postgres://h/db?connect_timeout=1&gssencmode=prefer"
        );
        assert!(Target::parse("mysql://x").is_none());
        assert!(Target::parse("sqlite://").is_none());
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the Query Planner Stability
    /// Guarantee; without it every `.first()` (a bound `LIMIT ?`) is re-prepared on each run.
    #[test]
    fn the_bundled_sqlite_keeps_plans_independent_of_bound_values() {
        diesel::define_sql_function!(fn sqlite_compileoption_used(option: diesel::sql_types::Text) -> diesel::sql_types::Integer);
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        let used: i32 = diesel::select(sqlite_compileoption_used("ENABLE_QPSG")).get_result(&mut c).unwrap();
        assert_eq!(used, 1, "build with LIBSQLITE3_FLAGS=-DSQLITE_ENABLE_QPSG (.cargo/config.toml)");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u:p@ss@h/db?x=1"), "postgres://u:***@h/db?x=1");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/g.db"), "sqlite://data/g.db");
    }
}
