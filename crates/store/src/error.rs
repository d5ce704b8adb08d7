//! The store's one error type. Its `Display` is one line that says what is wrong; the domain
//! crates see it boxed inside their own opaque `StoreError`.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {url}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl { url: String },
    /// The database could not be reached or opened. `url` has its password removed.
    #[error("cannot open database {url}: {message}")]
    Open { url: String, message: String },
    #[error("cannot migrate database {url}: {message}")]
    Migrate { url: String, message: String },
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// A stored JSON column (a list of strings, an outbox message) does not parse.
    #[error("malformed {column} in the database: {source}")]
    Malformed {
        column: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A stored name column (a code's purpose or kind) holds a name this version does not know.
    #[error("unknown {column} {value:?} in the database")]
    UnknownName { column: &'static str, value: String },
}

impl StoreError {
    /// Whether this is the database refusing a duplicate in one of the unique indexes `names`:
    /// PostgreSQL names the constraint (`accounts_email_key`), SQLite the column (`accounts.email`).
    pub(crate) fn is_unique_violation(&self, names: &[&str]) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                names.iter().any(|n| info.constraint_name() == Some(*n) || info.message().contains(n))
            }
            _ => false,
        }
    }
}

impl From<StoreError> for tokens::StoreError {
    fn from(e: StoreError) -> Self {
        tokens::StoreError(Box::new(e))
    }
}

impl From<StoreError> for identity::StoreError {
    fn from(e: StoreError) -> Self {
        identity::StoreError(Box::new(e))
    }
}

impl From<StoreError> for oauth::StoreError {
    fn from(e: StoreError) -> Self {
        oauth::StoreError(Box::new(e))
    }
}

impl From<StoreError> for mail::OutboxError {
    fn from(e: StoreError) -> Self {
        mail::OutboxError(Box::new(e))
    }
}

/// A list column's JSON text.
pub(crate) fn list_to_json(list: &[String]) -> String {
    // Serialising a slice of strings cannot fail; `Value::from` keeps that out of the types.
    serde_json::Value::from(list).to_string()
}

pub(crate) fn list_from_json(column: &'static str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Malformed { column, source })
}
