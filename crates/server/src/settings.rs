//! The settings tree: defaults, then `--config FILE` (TOML), then `GATEHOUSE_*` environment
//! variables with `__` for nesting (DESIGN.md, "The product contract"). Unknown keys stop
//! start-up with a message naming the key. `config/gatehouse.toml` documents every field; a
//! test fails if the two drift.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use federation::FederationSettings;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use identity::{Argon2Params, CodePolicy, LockoutPolicy, PasswordPolicy, PasswordRules};
use mail::MailSettings;
use serde::{Deserialize, Serialize};

pub use crate::flows::purge::MaintenanceSettings;

pub use crate::http::limits::LimitSettings;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub bind: String,
    /// The issuer identifier: the public base URL of this provider (OIDC Discovery §3).
    pub issuer: String,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub database_url: String,
    /// Directory for the SQLite file, the generated master key and mail files.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub keys: KeySettings,
    pub tokens: TokenSettings,
    pub sessions: SessionSettings,
    pub passwords: PasswordSettings,
    pub accounts: AccountSettings,
    /// Outgoing mail. `file_dir` empty means `<data_dir>/mail`.
    pub mail: MailSettings,
    /// "Sign in with Google", "Sign in with Microsoft" and generic OpenID Connect providers.
    pub federation: FederationSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub admin: AdminSettings,
    pub maintenance: MaintenanceSettings,
    /// Per-IP and per-account rate limits (docs/security.md).
    pub limits: LimitSettings,
    pub http: HttpSettings,
}

/// How gatehouse sees the network in front of it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Proxies (addresses or networks like `10.0.0.0/8`) whose forwarding header names the
    /// client. Empty: the TCP peer is the client and the headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write: `x-forwarded-for` (default) or `forwarded` (RFC 7239).
    /// Only that one is read; a client's copy of the other is ignored.
    pub client_ip_header: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self { trusted_proxies: Vec::new(), client_ip_header: "x-forwarded-for".into() }
    }
}

/// The admin API (`/admin/v1`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSettings {
    /// SHA-256 (hex) of the operator's bearer token; `gatehouse admin token` makes a pair.
    /// Empty: the admin API is off (404).
    pub token_sha256: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Connections kept in the pool.
    pub pool_size: u32,
    /// Seconds a node keeps a client row read for client authentication (0: read every time).
    /// A client deleted or given a new secret on another node, or with the CLI, can still
    /// authenticate here for up to this long (`http/client_cache.rs`).
    pub client_cache_secs: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// Base64 of 32 random bytes that encrypts the private signing keys in the database.
    /// Empty: generated on first start into `<data_dir>/master.key`. Set it when several nodes
    /// share one database.
    pub master_key: String,
    /// JWS algorithm of access tokens: `ES256` or `RS256`.
    pub access_token_alg: String,
    /// Seconds between two reloads of the signing keys from the database: how soon a node sees
    /// a rotation another node (or `gatehouse keys rotate`) made.
    pub reload_secs: i64,
    /// Seconds a rotated-in key is published before it signs; longer than `reload_secs`, so
    /// every node publishes it before any node signs with it.
    pub publish_lead_secs: i64,
    /// Rotate each algorithm's key when it has signed this many days; 0: only by
    /// `gatehouse keys rotate`.
    pub rotate_after_days: i64,
}

impl KeySettings {
    /// How long a retired key stays published: until every token it signed has expired, and
    /// every node has stopped signing with it.
    pub fn retain_secs(&self, tokens: &TokenSettings) -> i64 {
        tokens.access_token_ttl.max(tokens.id_token_ttl) + self.reload_secs
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// Access token lifetime, seconds.
    pub access_token_ttl: i64,
    /// ID token lifetime, seconds.
    pub id_token_ttl: i64,
    /// Authorization code lifetime, seconds.
    pub code_ttl: i64,
    /// Refresh token idle lifetime, seconds: unused this long, it expires (each rotation
    /// restarts it). A client may override it.
    pub refresh_token_idle_ttl: i64,
    /// Refresh token absolute lifetime, seconds from the code exchange that began the family.
    /// A client may override it.
    pub refresh_token_absolute_ttl: i64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Lifetime of a browser session without "Keep me signed in", seconds.
    pub ttl: i64,
    /// Lifetime of a session with "Keep me signed in" (a persistent cookie), seconds.
    pub persistent_ttl: i64,
    /// Inactivity timeout of a session without "Keep me signed in", seconds (ASVS 5.0 7.3.1):
    /// unused this long, it is dead; 0 turns it off. A use is recorded at most once a minute
    /// (a tenth of the timeout when shorter), so a session lasts up to that much longer.
    pub idle_ttl: i64,
    /// Inactivity timeout of a "Keep me signed in" session, seconds; 0 (the default): none, the
    /// citizen chose to stay signed in and `persistent_ttl` alone ends it.
    pub persistent_idle_ttl: i64,
}

impl SessionSettings {
    /// The inactivity rule these settings make (`identity::idle`).
    pub fn idle(&self) -> identity::IdleTimeout {
        identity::IdleTimeout { ttl: self.idle_ttl, persistent_ttl: self.persistent_idle_ttl }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// argon2id cost; defaults are OWASP's (19 MiB, 2 passes, 1 lane).
    pub argon2: Argon2Params,
    /// Threads that hash passwords; at most this many hashes run at once. 0 = one per core.
    pub hash_threads: usize,
    pub policy: PasswordPolicy,
    /// A new password may be none of the account's last N (argon2 history; at most 24).
    pub history_depth: usize,
    /// Refuse the most common passwords (a shipped list of 10,000).
    pub reject_common: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSettings {
    /// Failed verifications that lock an account, and for how long.
    pub lockout: LockoutPolicy,
    /// Lifetimes of emailed links and typed codes.
    pub codes: CodePolicy,
    /// `first-method` (default): an account signs in only with the method it first used (the
    /// guide: "You will not be able to log in using other options after the initial log in");
    /// `link-verified-email`: an upstream sign-in with the account's verified email links it.
    pub method_binding: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `gatehouse_server=debug,info`.
    pub level: String,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve Prometheus metrics at `GET /metrics`.
    pub enabled: bool,
    /// If set, a scrape must send `Authorization: Bearer <token>`. Empty: no token asked
    /// (block `/metrics` at the proxy instead).
    pub token: String,
}

/// The token never reaches a log.
impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token = if self.token.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("MetricsSettings").field("enabled", &self.enabled).field("token", &token).finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            issuer: "http://127.0.0.1:8080".into(),
            database_url: "sqlite://data/gatehouse.db".into(),
            data_dir: PathBuf::from("data"),
            database: DatabaseSettings::default(),
            keys: KeySettings::default(),
            tokens: TokenSettings::default(),
            sessions: SessionSettings::default(),
            passwords: PasswordSettings::default(),
            accounts: AccountSettings::default(),
            mail: MailSettings { file_dir: PathBuf::new(), ..MailSettings::default() },
            federation: FederationSettings::default(),
            log: LogSettings::default(),
            metrics: MetricsSettings::default(),
            admin: AdminSettings::default(),
            maintenance: MaintenanceSettings::default(),
            limits: LimitSettings::default(),
            http: HttpSettings::default(),
        }
    }
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            lockout: LockoutPolicy::default(),
            codes: CodePolicy::default(),
            method_binding: "first-method".into(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { pool_size: 8, client_cache_secs: 5 }
    }
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            master_key: String::new(),
            access_token_alg: "ES256".into(),
            reload_secs: 60,
            publish_lead_secs: 300,
            rotate_after_days: 90,
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: 600,
            id_token_ttl: 600,
            code_ttl: 60,
            refresh_token_idle_ttl: 30 * 24 * 3600,
            refresh_token_absolute_ttl: 90 * 24 * 3600,
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { ttl: 12 * 3600, persistent_ttl: 30 * 24 * 3600, idle_ttl: 1800, persistent_idle_ttl: 0 }
    }
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let rules = PasswordRules::default();
        Self {
            argon2: Argon2Params::default(),
            hash_threads: 0,
            policy: rules.policy,
            history_depth: rules.history_depth,
            reject_common: rules.reject_common,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self { enabled: true, token: String::new() }
    }
}

/// A setting that stops start-up. `Display` is the one line the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("setting {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("cannot read settings file {path}: {message}")]
    File { path: String, message: String },
}

impl Settings {
    /// Defaults, then the TOML file, then `GATEHOUSE_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            // Read once here so a missing file is an error (figment skips missing files).
            std::fs::metadata(path).map_err(|e| SettingsError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.len() > ENV_PREFIX.len())
            .collect();
        figment = figment.merge(env_provider(vars));
        let mut settings: Settings = figment.extract().map_err(describe_figment_error)?;
        if settings.mail.file_dir.as_os_str().is_empty() {
            settings.mail.file_dir = settings.data_dir.join("mail");
        }
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key: &str, message: String| SettingsError::Invalid { key: key.into(), message };
        self.bind.parse::<SocketAddr>().map_err(|_| {
            invalid("bind", format!("\"{}\" is not an address like 127.0.0.1:8080", self.bind))
        })?;
        validate_issuer(&self.issuer).map_err(|m| invalid("issuer", m))?;
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(invalid("database_url", "use sqlite://PATH or postgres://…".into()));
        }
        if tokens::Algorithm::parse(&self.keys.access_token_alg).is_none() {
            return Err(invalid("keys.access_token_alg", "use ES256 or RS256".into()));
        }
        for (key, value) in [
            ("tokens.access_token_ttl", self.tokens.access_token_ttl),
            ("tokens.id_token_ttl", self.tokens.id_token_ttl),
            ("tokens.code_ttl", self.tokens.code_ttl),
            ("tokens.refresh_token_idle_ttl", self.tokens.refresh_token_idle_ttl),
            ("tokens.refresh_token_absolute_ttl", self.tokens.refresh_token_absolute_ttl),
            ("sessions.ttl", self.sessions.ttl),
            ("sessions.persistent_ttl", self.sessions.persistent_ttl),
        ] {
            if value <= 0 {
                return Err(invalid(key, format!("must be a positive number of seconds, not {value}")));
            }
        }
        for (key, value) in [
            ("sessions.idle_ttl", self.sessions.idle_ttl),
            ("sessions.persistent_idle_ttl", self.sessions.persistent_idle_ttl),
        ] {
            if value < 0 {
                return Err(invalid(
                    key,
                    format!("must be 0 (no limit) or a number of seconds, not {value}"),
                ));
            }
        }
        let keys = &self.keys;
        if keys.reload_secs <= 0 {
            return Err(invalid(
                "keys.reload_secs",
                format!("must be a positive number of seconds, not {}", keys.reload_secs),
            ));
        }
        if keys.publish_lead_secs <= keys.reload_secs {
            return Err(invalid(
                "keys.publish_lead_secs",
                format!(
                    "must be more than keys.reload_secs ({}), or a node could sign with a key another node does not publish yet",
                    keys.reload_secs
                ),
            ));
        }
        if keys.rotate_after_days < 0 {
            return Err(invalid("keys.rotate_after_days", "must be 0 (never) or a number of days".into()));
        }
        if self.accounts.codes.resend_interval_secs < 0 {
            return Err(invalid(
                "accounts.codes.resend_interval_secs",
                "must be 0 or a number of seconds".into(),
            ));
        }
        if self.accounts.codes.sends_per_hour == 0 {
            return Err(invalid("accounts.codes.sends_per_hour", "must be at least 1".into()));
        }
        if self.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1".into()));
        }
        self.mail.validate().map_err(|e| match e {
            mail::MailError::Settings { key, message } => SettingsError::Invalid { key: key.into(), message },
            other => invalid("mail", other.to_string()),
        })?;
        let codes = &self.accounts.codes;
        for (key, value) in [
            ("accounts.codes.reset_link_secs", codes.reset_link_secs),
            ("accounts.codes.unlock_link_secs", codes.unlock_link_secs),
            ("accounts.codes.verify_email_link_secs", codes.verify_email_link_secs),
            ("accounts.codes.typed_code_secs", codes.typed_code_secs),
            ("accounts.lockout.window_secs", self.accounts.lockout.window_secs),
            ("accounts.lockout.cooldown_secs", self.accounts.lockout.cooldown_secs),
        ] {
            if value <= 0 {
                return Err(invalid(key, format!("must be a positive number of seconds, not {value}")));
            }
        }
        if codes.typed_code_max_tries == 0 {
            return Err(invalid("accounts.codes.typed_code_max_tries", "must be at least 1".into()));
        }
        let admin = &self.admin.token_sha256;
        let is_sha256 = admin.len() == 64 && admin.bytes().all(|b| b.is_ascii_hexdigit());
        if !admin.is_empty() && !is_sha256 {
            return Err(invalid(
                "admin.token_sha256",
                "must be the 64-hex-digit SHA-256 of the admin token: run `gatehouse admin token`".into(),
            ));
        }
        if !self.metrics.token.is_empty() && self.metrics.token.len() < METRICS_TOKEN_MIN_LEN {
            return Err(invalid(
                "metrics.token",
                format!("must be at least {METRICS_TOKEN_MIN_LEN} characters (e.g. `openssl rand -hex 32`)"),
            ));
        }
        if !matches!(self.accounts.method_binding.as_str(), "first-method" | "link-verified-email") {
            return Err(invalid(
                "accounts.method_binding",
                format!("use first-method or link-verified-email, not \"{}\"", self.accounts.method_binding),
            ));
        }
        self.federation.providers().map_err(|e| SettingsError::Invalid { key: e.key, message: e.message })?;
        self.trusted_proxies()?;
        if self.limits.sign_in_per_account_window_secs <= 0 {
            return Err(invalid(
                "limits.sign_in_per_account_window_secs",
                "must be a positive number of seconds".into(),
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid("log.format", format!("use text or json, not \"{}\"", self.log.format)));
        }
        Ok(())
    }

    /// The issuer without a trailing slash, for building endpoint URLs.
    pub fn issuer_base(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }

    pub fn password_rules(&self) -> PasswordRules {
        PasswordRules {
            policy: self.passwords.policy.clone(),
            history_depth: self.passwords.history_depth,
            reject_common: self.passwords.reject_common,
        }
    }

    /// `http.trusted_proxies` and `http.client_ip_header`, parsed.
    pub fn trusted_proxies(&self) -> Result<crate::http::client_ip::TrustedProxies, SettingsError> {
        use crate::http::client_ip::{ClientIpHeader, TrustedProxies};
        let invalid = |key: &str, message| SettingsError::Invalid { key: key.into(), message };
        let header = ClientIpHeader::parse(&self.http.client_ip_header)
            .map_err(|m| invalid("http.client_ip_header", m))?;
        TrustedProxies::parse(&self.http.trusted_proxies, header)
            .map_err(|m| invalid("http.trusted_proxies", m))
    }

    pub fn hash_threads(&self) -> usize {
        match self.passwords.hash_threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

const ENV_PREFIX: &str = "GATEHOUSE_";

/// A scrape token shorter than this is refused: it would be guessable.
const METRICS_TOKEN_MIN_LEN: usize = 16;

/// `GATEHOUSE_PASSWORDS__ARGON2__MEMORY_KIB=1024` → `passwords.argon2.memory_kib = 1024`.
/// Values are read as figment reads environment variables (numbers and booleans typed).
fn env_provider(vars: Vec<(String, String)>) -> EnvVars {
    let mut dict = figment::value::Dict::new();
    for (name, raw) in vars {
        let path = name[ENV_PREFIX.len()..].to_ascii_lowercase().replace("__", ".");
        let value: figment::value::Value = raw.parse().unwrap_or_else(|_| raw.clone().into());
        if let figment::value::Value::Dict(_, nested) = figment::util::nest(&path, value) {
            merge_dict(&mut dict, nested);
        }
    }
    EnvVars(dict)
}

/// The environment variables as a figment provider, named so errors say where a key came from.
struct EnvVars(figment::value::Dict);

impl figment::Provider for EnvVars {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(ENV_NAME)
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.0.clone()))
    }
}

const ENV_NAME: &str = "GATEHOUSE_ environment variables";

fn merge_dict(into: &mut figment::value::Dict, from: figment::value::Dict) {
    use figment::value::Value;
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => merge_dict(existing, nested),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// OIDC Discovery §3 / OIDC Core §2: an https URL with no query or fragment; plain http only
/// on a loopback host, for development.
fn validate_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("\"{issuer}\" is not a URL ({e})"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must have no query or fragment".into());
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("\"{issuer}\" must use https (http only on a loopback host)")),
    }
}

fn describe_figment_error(error: figment::Error) -> SettingsError {
    let key = error.path.join(".");
    let source = error
        .metadata
        .as_ref()
        .map(|m| match &m.source {
            Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
            _ => format!(" (from {})", m.name),
        })
        .unwrap_or_default();
    let message = match &error.kind {
        figment::error::Kind::UnknownField(field, _) => {
            return SettingsError::Invalid {
                key: if key.is_empty() { field.clone() } else { format!("{key}.{field}") },
                message: format!("unknown setting{source}"),
            };
        }
        kind => format!("{kind}{source}"),
    };
    SettingsError::Invalid { key: if key.is_empty() { "(root)".into() } else { key }, message }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
