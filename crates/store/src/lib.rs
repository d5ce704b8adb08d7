//! gatehouse's storage: the only crate that knows diesel. It owns the schema, the migrations
//! (`migrations/sqlite`, `migrations/postgres`, embedded in the binary) and a pooled connection
//! to SQLite or PostgreSQL, picked from the URL scheme, and implements the store traits of the
//! domain crates (`tokens::KeyStore`, `identity::{AccountStore, SessionStore, LockoutStore,
//! OneTimeCodeStore, PasswordHistoryStore, RevocationStore, ProfileStore, AuditStore,
//! FederationStore, ThrottleStore}`, `oauth::{ClientStore, CodeStore, GrantStore,
//! RefreshTokenStore, SubjectStore, BackChannelStore, ConsentStore, PortalStore,
//! PushedRequestStore}`,
//! `mail::Outbox`) on [`Store`]. Each trait method is one transaction; so are
//! [`Store::issue_code_with_mail`] and [`Store::end_session`] (a session ends together with the
//! back-channel logouts it queues), which span two domains. It depends on the domain crates and
//! never on `server` or actix-web.
//!
//! Both backends run the same queries through a `diesel::MultiConnection`, so the schema uses
//! only the SQL types they share: text, 64-bit integers (times in unix seconds), bytes and
//! booleans; lists are JSON text.

mod accounts;
mod admin;
mod audit;
mod clients;
mod codes;
mod conn;
mod consents;
mod error;
mod federation;
mod gate;
mod keys;
mod lockouts;
mod logout;
mod one_time_codes;
mod outbox;
mod portals;
mod profiles;
mod purge;
mod refresh_tokens;
mod registrations;
mod schema;
mod throttles;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use r2d2::{CustomizeConnection, ManageConnection};

pub use admin::{AuditFilter, EndedSessions, SESSIONS_PER_BATCH};
use conn::{Backend, DbConnection, Manager, SqlitePragmas, Target};
pub use error::StoreError;
use gate::WriterGate;
pub use logout::EndedSession;
pub use purge::{Purged, Retention};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a caller waits for a pooled connection (and the pool for its first one) before
/// giving up with the last connect error.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Serialises `migrate` across nodes sharing one PostgreSQL (any constant; "gh" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6768;

/// A pool of connections to one database. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    /// What the pool connects to; `migrate` opens a connection of its own with it.
    target: Target,
    /// The URL without its password.
    url: Arc<str>,
    /// On SQLite, one transaction of this process at a time (`gate.rs`).
    gate: Arc<WriterGate>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a pool of at most `pool_size` connections to `database_url`: `sqlite://PATH` (or
    /// `sqlite:PATH`; the file and its directory are created if missing), `postgres://…` or
    /// `postgresql://…`. Fails within seconds, with the driver's reason, when the database
    /// cannot be reached.
    pub fn connect(database_url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let url = conn::redact(database_url);
        let Some(target) = Target::parse(database_url) else {
            return Err(StoreError::UnsupportedUrl { url });
        };
        let open_error = |message: &dyn std::fmt::Display| StoreError::Open {
            url: url.clone(),
            message: one_line(message),
        };
        if target.backend == Backend::Sqlite
            && let Some(dir) = Path::new(&target.address).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_error(&format!("cannot create directory {}: {e}", dir.display())))?;
        }
        if target.backend == Backend::Postgres {
            // Initialise the OpenSSL compiled into libpq ourselves, without its atexit cleanup:
            // left to libpq, OPENSSL_cleanup runs at exit while a pool thread may still be in a
            // TLS handshake, and that thread crashes the process (SIGSEGV after short CLI
            // commands over sslmode=require, seen in the e2e suite).
            openssl_sys::init();
        }
        let manager = Manager { target: target.clone() };
        // One connection outside the pool first: its error is the real cause (the pool reports
        // a timeout), and on SQLite it switches the file to WAL before pooled connections race.
        let mut first = manager.connect().map_err(|e| open_error(&e))?;
        SqlitePragmas.on_acquire(&mut first).map_err(|e| open_error(&e))?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(CONNECTION_TIMEOUT)
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| open_error(&e))?;
        let gate = Arc::new(WriterGate::new(target.backend == Backend::Sqlite));
        Ok(Store { pool, target, url: url.into(), gate })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.target.backend.as_str()
    }

    /// The database URL without its password, for the start-up log line.
    pub fn describe(&self) -> String {
        self.url.to_string()
    }

    /// Applies the migrations this binary embeds that the database lacks.
    pub fn migrate(&self) -> Result<(), StoreError> {
        let fail = |message: &dyn std::fmt::Display| StoreError::Migrate {
            url: self.url.to_string(),
            message: one_line(message),
        };
        // A connection of its own, closed afterwards: PostgreSQL then drops the advisory lock
        // even if a migration fails half-way.
        let manager = Manager { target: self.target.clone() };
        let mut conn = manager.connect().map_err(|e| fail(&e))?;
        SqlitePragmas.on_acquire(&mut conn).map_err(|e| fail(&e))?;
        let applied = match &mut conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConnection::Postgresql(c) => {
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                    .map_err(|e| fail(&e))?;
                c.run_pending_migrations(POSTGRES_MIGRATIONS)
            }
        }
        .map_err(|e| fail(&e))?;
        for version in applied {
            tracing::info!(%version, database = %self.url, "applied migration");
        }
        Ok(())
    }

    /// Checks that a connection can be had and answers (`/health/ready`).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.pool.get()?.batch_execute("SELECT 1")?;
        Ok(())
    }

    /// Runs `f` in one transaction on a pooled connection; an error rolls it back. On SQLite it
    /// first waits for this process's gate (`gate.rs`), so writers queue here, not in SQLite's
    /// busy handler.
    ///
    /// On SQLite a transaction starts deferred, and one that reads before it writes can fail
    /// with `SQLITE_BUSY` when another writer got in between (`busy_timeout` does not help
    /// there). So every writing method here writes first: the conditional update, the insert
    /// whose unique violation is the answer.
    fn transaction<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _turn = self.gate.enter();
        let mut conn = self.pool.get()?;
        DbConnection::transaction(&mut conn, f)
    }

    /// A transaction that only reads. It does not wait for the SQLite gate (`gate.rs`): in WAL
    /// mode readers never wait for the writer, so a long write (a purge) does not hold up
    /// sign-ins' and token checks' reads. Anything that writes must use
    /// [`transaction`](Self::transaction) or [`write_transaction`](Self::write_transaction).
    fn read<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        DbConnection::transaction(&mut conn, f)
    }

    /// Like [`transaction`](Self::transaction), for a read-modify-write that must not lose
    /// updates. On SQLite it begins `IMMEDIATE`: the write lock is taken (waiting up to
    /// `busy_timeout`) before the first read, so such transactions run one at a time and cannot
    /// fail with `SQLITE_BUSY` half-way. On PostgreSQL it is a plain transaction, and `f` locks
    /// the rows it reads (`SELECT … FOR UPDATE`).
    fn write_transaction<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        use diesel::connection::TransactionManager;
        type Manager = <DbConnection as Connection>::TransactionManager;
        let _turn = self.gate.enter();
        let mut pooled = self.pool.get()?;
        let conn: &mut DbConnection = &mut pooled;
        // The derived MultiConnection transaction manager delegates to the variant's own, so a
        // transaction begun on the inner connection is committed or rolled back through `conn`.
        match conn {
            DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
            DbConnection::Postgresql(_) => Manager::begin_transaction(conn)?,
        }
        // What `TransactionManager::transaction` does after its begin.
        match f(conn) {
            Ok(value) => {
                Manager::commit_transaction(conn)?;
                Ok(value)
            }
            Err(error) => match Manager::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}

/// Driver messages (libpq's above all) span several lines; a log line and an error are one.
fn one_line(message: &dyn std::fmt::Display) -> String {
    message.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}
