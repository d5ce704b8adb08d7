//! The JWKS documents `private_key_jwt` clients publish at their `jwks_uri` (OIDC Core §10.1.1),
//! fetched over reqwest (async: a fetch never blocks an actix worker), with a timeout and a size
//! limit, and kept for [`TTL`]. A kid the cached set does not know triggers one refetch (the
//! client may have rotated its keys), at most every [`REFETCH_GAP`] per URL, so a stream of
//! assertions naming unknown keys cannot turn gatehouse into a request amplifier.
//!
//! The cache is per node and holds only public keys that any node can fetch again: no state
//! another node needs (DESIGN.md, "Storage").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokens::ClientJwks;

use crate::http::outbound::LazyClient;

/// How long a fetched JWKS is used before it is fetched again.
pub const TTL: Duration = Duration::from_secs(300);
/// How long one fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The least time between two fetches of one URL forced by unknown `kid`s.
pub const REFETCH_GAP: Duration = Duration::from_secs(10);
/// The largest JWKS document accepted.
const MAX_BYTES: usize = 64 * 1024;

struct Entry {
    jwks: Arc<ClientJwks>,
    fetched: Instant,
    /// When an unknown `kid` last forced a fetch of this URL.
    forced: Option<Instant>,
}

pub struct JwksCache {
    http: LazyClient,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Why a client's JWKS could not be had; the assertion is then refused (`invalid_client`).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("fetching the client's jwks_uri failed: {0}")]
    Http(String),
    #[error("the client's jwks_uri answered {0}")]
    Status(u16),
    #[error("the client's jwks_uri served no usable JWKS: {0}")]
    Invalid(&'static str),
}

impl Default for JwksCache {
    fn default() -> JwksCache {
        JwksCache::new()
    }
}

impl JwksCache {
    pub fn new() -> JwksCache {
        // Redirects are not followed: the registered URL is the one trusted.
        let configure =
            || reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(TIMEOUT);
        JwksCache { http: LazyClient::new(configure), entries: Mutex::new(HashMap::new()) }
    }

    /// The JWKS at `uri`: the cached one if it is fresh, else a new fetch.
    pub async fn get(&self, uri: &str) -> Result<Arc<ClientJwks>, FetchError> {
        if let Some(jwks) = self.cached(uri, |e| e.fetched.elapsed() < TTL) {
            return Ok(jwks);
        }
        self.fetch(uri, false).await
    }

    /// The JWKS at `uri` fetched again because it lacks `kid`, unless an unknown kid already
    /// forced a fetch within [`REFETCH_GAP`]; `None` when it was not refetched.
    pub async fn refetch_for_kid(&self, uri: &str, kid: &str) -> Option<Result<Arc<ClientJwks>, FetchError>> {
        let recent = |e: &Entry| e.jwks.has_kid(kid) || e.forced.is_some_and(|t| t.elapsed() < REFETCH_GAP);
        {
            let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match entries.get_mut(uri) {
                Some(e) if recent(e) => return None,
                // Counted before fetching, so a failing URL is not fetched on every request.
                Some(e) => e.forced = Some(Instant::now()),
                None => {}
            }
        }
        Some(self.fetch(uri, true).await)
    }

    fn cached(&self, uri: &str, usable: impl Fn(&Entry) -> bool) -> Option<Arc<ClientJwks>> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(uri).filter(|e| usable(e)).map(|e| e.jwks.clone())
    }

    async fn fetch(&self, uri: &str, forced: bool) -> Result<Arc<ClientJwks>, FetchError> {
        let http = |e: reqwest::Error| FetchError::Http(e.without_url().to_string());
        let mut response = self
            .http
            .get()
            .map_err(http)?
            .get(uri)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(http)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(FetchError::Invalid("larger than 64 KiB"));
            }
            body.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&body).map_err(|_| FetchError::Invalid("not UTF-8"))?;
        let jwks = Arc::new(ClientJwks::parse(text).map_err(FetchError::Invalid)?);
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let forced = if forced { Some(now) } else { entries.get(uri).and_then(|e| e.forced) };
        entries.insert(uri.to_owned(), Entry { jwks: jwks.clone(), fetched: now, forced });
        Ok(jwks)
    }
}
