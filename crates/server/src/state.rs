//! What every handler shares: settings, the store, the signing keys, the hash pool, and the
//! documents rendered once per key change (discovery, JWKS).

use std::sync::Arc;

use identity::{CodeKey, HashPool, PasswordRules};
use mail::Mailer;
use store::Store;
use tokio::sync::Notify;

use crate::http::csrf::CsrfKey;
use crate::http::error::Failure;
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    /// The signing keys; `keys.current()` is the set to use now (reloaded by `keys::run`).
    pub keys: crate::keys::Keys,
    pub hash_pool: HashPool,
    /// HMAC key for CSRF tokens, derived from the master key so every node shares it.
    pub csrf: Arc<CsrfKey>,
    pub token_settings: Arc<oauth::TokenSettings>,
    /// `/.well-known/openid-configuration`, rendered at start.
    pub discovery: Arc<str>,
    pub mailer: Mailer,
    /// Wakes the outbox worker when a request has queued mail.
    pub outbox_waker: Arc<Notify>,
    /// Wakes the back-channel logout worker when a session ended with logouts to deliver.
    pub backchannel_waker: Arc<Notify>,
    /// HMAC key for typed codes, derived from the master key.
    pub code_key: Arc<CodeKey>,
    pub password_rules: Arc<PasswordRules>,
    /// The upstream providers ("Sign in with Google"); discovery is cached inside.
    pub federation: federation::Federation,
    /// Opens the sealed secrets of `client_secret_jwt` clients.
    pub master: Arc<tokens::MasterKey>,
    /// The JWKS documents of `private_key_jwt` clients registered with a `jwks_uri`.
    pub client_jwks: Arc<crate::http::client_jwks::JwksCache>,
    /// Clients as client authentication read them, kept a few seconds (`http/client_cache.rs`).
    pub clients: Arc<crate::http::client_cache::ClientCache>,
    /// Per-IP rate limits, in this node's memory (`http/limits.rs`).
    pub limits: Arc<crate::http::limits::RateLimits>,
    /// Whose `Forwarded` / `X-Forwarded-For` names the client (`http/client_ip.rs`).
    pub trusted_proxies: Arc<crate::http::client_ip::TrustedProxies>,
}

impl AppState {
    /// Runs a store operation on actix's blocking pool: diesel is synchronous and must never
    /// run on a worker thread (DESIGN.md, "Storage").
    pub async fn db<T, E, F>(&self, op: F) -> Result<T, Failure>
    where
        F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let store = self.store.clone();
        actix_web::web::block(move || op(&store)).await.map_err(Failure::internal)?.map_err(Failure::internal)
    }

    pub fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.settings.issuer_base())
    }

    pub fn secure_cookies(&self) -> bool {
        self.settings.issuer.starts_with("https://")
    }
}
