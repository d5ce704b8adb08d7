//! Start-up: settings → store (migrated) → master key → signing keys → hash pool → HTTP.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use identity::{CodeKey, HashPool};
use mail::Mailer;
use store::Store;
use tokens::{Algorithm, MasterKey};

use crate::http::csrf::CsrfKey;
use crate::keys::Keys;
use crate::routes;
use crate::settings::Settings;
use crate::state::AppState;

/// A failure that stops start-up; `Display` is the one line the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Settings(#[from] crate::settings::SettingsError),
    #[error("{0}")]
    Store(#[from] store::StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] tokens::TokenError),
    #[error("master key file {path}: {message}")]
    MasterKeyFile { path: String, message: String },
    #[error("setting passwords.argon2: {0}")]
    Passwords(#[from] identity::PasswordError),
    #[error("{0}")]
    Mail(#[from] mail::MailError),
    #[error("cannot listen on {bind}: {message}")]
    Bind { bind: String, message: String },
}

/// Opens the database named by the settings and brings its schema up to date.
pub fn open_store(settings: &Settings) -> Result<Store, StartError> {
    let store = Store::connect(&settings.database_url, settings.database.pool_size)?;
    store.migrate()?;
    Ok(store)
}

/// The master key from `keys.master_key`, or else from `<data_dir>/master.key`, created on the
/// first start (readable by its owner only).
pub fn master_key(settings: &Settings) -> Result<MasterKey, StartError> {
    if !settings.keys.master_key.is_empty() {
        return MasterKey::from_base64(&settings.keys.master_key).map_err(|e| {
            StartError::Settings(crate::settings::SettingsError::Invalid {
                key: "keys.master_key".into(),
                message: e.to_string(),
            })
        });
    }
    let path = settings.data_dir.join("master.key");
    let fail = |e: &dyn std::fmt::Display| StartError::MasterKeyFile {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_base64(text.trim()).map_err(|e| fail(&e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            write_private(&path, &key.to_base64()).map_err(|e| fail(&e))?;
            Ok(key)
        }
        Err(e) => Err(fail(&e)),
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

/// Everything the handlers share, built once.
pub async fn build_state(settings: Settings) -> Result<AppState, StartError> {
    let settings = Arc::new(settings);
    let store = open_store(&settings)?;
    let master = master_key(&settings)?;
    let hash_pool = HashPool::new(settings.passwords.argon2.clone(), settings.hash_threads())?;
    let access_token_alg = Algorithm::parse(&settings.keys.access_token_alg).unwrap_or(Algorithm::Es256);
    let token_settings = oauth::TokenSettings {
        issuer: settings.issuer.clone(),
        access_token_ttl: settings.tokens.access_token_ttl,
        id_token_ttl: settings.tokens.id_token_ttl,
        access_token_alg,
        refresh_token_idle_ttl: settings.tokens.refresh_token_idle_ttl,
        refresh_token_absolute_ttl: settings.tokens.refresh_token_absolute_ttl,
    };
    let csrf = Arc::new(CsrfKey::new(&master.derive("gatehouse csrf v1")));
    let code_key = Arc::new(CodeKey::from_master(&master));
    let keys = Keys::load(&store, master.clone(), &settings, AppState::now())?;
    let client_jwks = crate::http::client_jwks::JwksCache::new();
    let federation =
        federation::Federation::new(&settings.federation, settings.issuer_base()).map_err(|e| {
            StartError::Settings(crate::settings::SettingsError::Invalid { key: e.key, message: e.message })
        })?;
    let trusted_proxies = settings.trusted_proxies().map_err(StartError::Settings)?;
    Ok(AppState {
        limits: Arc::new(crate::http::limits::RateLimits::new(&settings.limits)),
        clients: Arc::new(crate::http::client_cache::ClientCache::new(std::time::Duration::from_secs(
            settings.database.client_cache_secs,
        ))),
        trusted_proxies: Arc::new(trusted_proxies),
        federation,
        master: Arc::new(master),
        client_jwks: Arc::new(client_jwks),
        discovery: routes::discovery::document(&settings).into(),
        csrf,
        mailer: Mailer::from_settings(&settings.mail)?,
        outbox_waker: Arc::new(tokio::sync::Notify::new()),
        backchannel_waker: Arc::new(tokio::sync::Notify::new()),
        code_key,
        password_rules: Arc::new(settings.password_rules()),
        token_settings: Arc::new(token_settings),
        settings,
        store,
        keys,
        hash_pool,
    })
}

pub async fn serve(settings: Settings) -> Result<(), StartError> {
    let bind = settings.bind.clone();
    let state = build_state(settings).await?;
    actix_web::rt::spawn(crate::flows::outbox::run(state.clone()));
    actix_web::rt::spawn(crate::flows::backchannel::run(state.clone()));
    actix_web::rt::spawn(crate::flows::purge::run(state.clone()));
    actix_web::rt::spawn(crate::http::limits::sweep_forever(state.clone()));
    actix_web::rt::spawn(crate::keys::run(state.store.clone(), state.keys.clone(), state.settings.clone()));
    let server = HttpServer::new({
        let state = state.clone();
        move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .wrap(actix_web::middleware::from_fn(crate::http::limits::enforce))
                // Outside the limits (a 429 is reshaped like any error), inside the headers
                // (a reshaped answer still gets them).
                .wrap(actix_web::middleware::from_fn(crate::http::fallback::reshape))
                .wrap(crate::http::headers::security(&state.settings))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(actix_web::middleware::from_fn(crate::http::access::observe))
                .configure(routes::configure)
        }
    })
    // Every database call runs on a worker's blocking pool (`AppState::db`), and beyond the
    // connection pool's size a blocking thread only waits for a connection. Left at actix's
    // default (512 per worker) the pool grows to match every waiting request under load, each
    // thread with its own stack and malloc arena: hundreds of MB for nothing.
    .worker_max_blocking_threads(state.settings.database.pool_size.max(2) as usize)
    .bind(&bind)
    .map_err(|e| StartError::Bind { bind: bind.clone(), message: e.to_string() })?;
    if state.settings.keys.master_key.is_empty() && !state.settings.database_url.starts_with("sqlite:") {
        tracing::warn!(
            "keys.master_key is not set: using {}/master.key; every node sharing this database needs \
             the same key (docs/deploying.md)",
            state.settings.data_dir.display()
        );
    }
    tracing::info!(
        "gatehouse listening on http://{bind} (issuer {}, database {})",
        state.settings.issuer,
        state.store.describe()
    );
    server.run().await.map_err(|e| StartError::Bind { bind, message: e.to_string() })
}

/// Logs go to stderr, as text or JSON per `log.format`.
pub fn init_logging(settings: &Settings) {
    use tracing_subscriber::util::SubscriberInitExt;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = log_subscriber(&settings.log, std::io::stderr, ansi).try_init();
}

/// The subscriber `init_logging` installs, writing to `writer`. `json` is one JSON object per
/// line, the event's fields at the top level and the request's span (its `request_id`) under
/// `span`; `text` is one line per event with the span as a `request{request_id=…}` prefix.
pub fn log_subscriber<W>(
    log: &crate::settings::LogSettings,
    writer: W,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::EnvFilter;
    // actix's own start-up lines repeat ours; keep them for debugging only.
    let level = format!("actix_server=warn,{}", log.level);
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    if log.format == "json" {
        Box::new(
            builder
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        )
    } else {
        Box::new(builder.with_ansi(ansi).finish())
    }
}
