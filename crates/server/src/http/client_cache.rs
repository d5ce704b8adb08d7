//! Clients as client authentication reads them, kept in this node's memory for a few seconds.
//!
//! Every request to the token, revocation, introspection and PAR endpoints authenticates a
//! client. Reading its row each time costs a hand-off to the blocking pool and back, which on
//! a `client_credentials` request is several times the cost of the signature itself
//! (docs/performance.md). So a node keeps what it read for `database.client_cache_secs`
//! (default 5; 0 reads every time). A change made on this node (admin API) evicts at once; a
//! change made elsewhere (another node, the CLI) is seen within that time: a deleted client or
//! a rotated secret may authenticate on this node for up to that long. Only rows that exist are
//! kept, so a client created anywhere can authenticate at once. Sign-in flows (authorization,
//! logout) always read the row afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use oauth::{Client, ClientId, ClientStore};

use crate::http::error::Failure;
use crate::state::AppState;

/// Entries kept at most; past it, the oldest half is dropped (clients are few; ids that do not
/// exist are never kept, so a prober cannot fill it).
const MAX_ENTRIES: usize = 4096;

pub struct ClientCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<Client>)>>,
}

impl ClientCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The client with this id, from memory when read less than the TTL ago.
    pub async fn find(&self, state: &AppState, id: &ClientId) -> Result<Option<Arc<Client>>, Failure> {
        if let Some(client) = self.fresh(id, Instant::now()) {
            return Ok(Some(client));
        }
        let lookup = id.clone();
        let client = state.db(move |s| s.find_client(&lookup)).await?.map(Arc::new);
        if let Some(client) = &client {
            self.keep(id, Arc::clone(client), Instant::now());
        }
        Ok(client)
    }

    /// Forgets a client changed or deleted on this node.
    pub fn forget(&self, id: &ClientId) {
        self.lock().remove(id.as_str());
    }

    fn fresh(&self, id: &ClientId, now: Instant) -> Option<Arc<Client>> {
        let entries = self.lock();
        let (read_at, client) = entries.get(id.as_str())?;
        (now.saturating_duration_since(*read_at) < self.ttl).then(|| Arc::clone(client))
    }

    fn keep(&self, id: &ClientId, client: Arc<Client>, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (read_at, _)| now.saturating_duration_since(*read_at) < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(id.as_str().to_owned(), (now, client));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<Client>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registered client (registration picks its id; the cache keys by the id it is given).
    fn client(name: &str) -> Arc<Client> {
        let registration = oauth::ClientRegistration {
            name: name.into(),
            grant_types: vec!["client_credentials".into()],
            ..Default::default()
        };
        Arc::new(oauth::client::register(registration, 0).unwrap().0)
    }

    #[test]
    fn an_entry_is_served_until_the_ttl_and_not_after() {
        let cache = ClientCache::new(Duration::from_secs(5));
        let id = ClientId::from_stored("portal".into());
        let t0 = Instant::now();
        cache.keep(&id, client("portal"), t0);
        assert!(cache.fresh(&id, t0 + Duration::from_millis(4_999)).is_some());
        assert!(cache.fresh(&id, t0 + Duration::from_secs(5)).is_none());
        assert!(cache.fresh(&ClientId::from_stored("other".into()), t0).is_none());
    }

    #[test]
    fn forget_evicts_and_a_zero_ttl_keeps_nothing() {
        let cache = ClientCache::new(Duration::from_secs(5));
        let id = ClientId::from_stored("portal".into());
        let t0 = Instant::now();
        cache.keep(&id, client("portal"), t0);
        cache.forget(&id);
        assert!(cache.fresh(&id, t0).is_none());

        let off = ClientCache::new(Duration::ZERO);
        off.keep(&id, client("portal"), t0);
        assert!(off.fresh(&id, t0).is_none());
    }

    #[test]
    fn it_never_holds_more_than_the_bound() {
        let cache = ClientCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES * 2 + 7) {
            let id = format!("c{i}");
            cache.keep(&ClientId::from_stored(id.clone()), client(&id), t0);
            assert!(cache.lock().len() <= MAX_ENTRIES);
        }
        let last = ClientId::from_stored(format!("c{}", MAX_ENTRIES * 2 + 6));
        assert!(cache.fresh(&last, t0).is_some(), "the newest entry is kept");
    }
}
