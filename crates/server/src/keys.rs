//! The signing keys a node uses, and their rotation (`tokens::rotation`): loaded at start,
//! reloaded from the database every `keys.reload_secs` (so a rotation made by another node or
//! by `gatehouse keys rotate` reaches every node), and rotated on the `keys.rotate_after_days`
//! schedule by whichever node gets there first (the store decides in one transaction).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use store::Store;
use tokens::rotation::{self, RotateWhen, Rotation};
use tokens::{Algorithm, KeySet, KeyStore, MasterKey, SigningKey, TokenError};

use crate::settings::Settings;

/// The current key set, swapped whole on reload. Cheap to clone.
#[derive(Clone)]
pub struct Keys {
    set: Arc<RwLock<KeySet>>,
    master: Arc<MasterKey>,
}

impl Keys {
    /// Loads (on first start: generates) the keys published at `now`.
    pub fn load(store: &Store, master: MasterKey, settings: &Settings, now: i64) -> Result<Keys, TokenError> {
        let set = KeySet::load(store, &master, now, retain_secs(settings))?;
        Ok(Keys { set: Arc::new(RwLock::new(set)), master: Arc::new(master) })
    }

    /// The set to sign and verify with now.
    pub fn current(&self) -> KeySet {
        self.set.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the keys again; the new set replaces the old one only once it loaded.
    pub fn reload(&self, store: &Store, settings: &Settings, now: i64) -> Result<(), TokenError> {
        let set = KeySet::load(store, &self.master, now, retain_secs(settings))?;
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = set;
        Ok(())
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }
}

fn retain_secs(settings: &Settings) -> i64 {
    settings.keys.retain_secs(&settings.tokens)
}

/// Rotates the keys of `algs` as `when` says; returns what happened per algorithm. A key is
/// generated only when the stored keys say a rotation is due, and the store decides again in
/// the transaction that inserts it.
pub fn rotate(
    store: &Store,
    master: &MasterKey,
    settings: &Settings,
    algs: &[Algorithm],
    when: RotateWhen,
    now: i64,
) -> Result<Vec<(Algorithm, Rotation, String)>, TokenError> {
    let lead = settings.keys.publish_lead_secs;
    let mut done = Vec::new();
    for &alg in algs {
        let seen = store.list_keys()?;
        if !matches!(rotation::plan(&seen, alg, now, lead, when), Rotation::Rotate { .. }) {
            continue;
        }
        let key = SigningKey::generate(alg, now)?;
        let decision = store.rotate_key(&key.to_stored(master), now, lead, when)?;
        done.push((alg, decision, key.kid().to_owned()));
    }
    Ok(done)
}

/// Reloads the keys every `keys.reload_secs`, rotating first when the schedule says so. A
/// failure is logged and tried again next time; the node keeps the keys it has.
pub async fn run(store: Store, keys: Keys, settings: Arc<Settings>) {
    let every = Duration::from_secs(settings.keys.reload_secs.unsigned_abs());
    loop {
        tokio::time::sleep(every).await;
        let (store, keys, settings) = (store.clone(), keys.clone(), settings.clone());
        let outcome = actix_web::web::block(move || {
            let now = crate::state::AppState::now();
            let days = settings.keys.rotate_after_days;
            if days > 0 {
                let when = RotateWhen::OlderThan(days * 86_400);
                for (alg, decision, kid) in
                    rotate(&store, keys.master(), &settings, &Algorithm::ALL, when, now)?
                {
                    if let Rotation::Rotate { at, .. } = decision {
                        tracing::info!(%alg, %kid, activates_at = at, "rotated signing key on schedule");
                    }
                }
            }
            keys.reload(&store, &settings, now)
        })
        .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "reloading signing keys failed"),
            Err(e) => tracing::error!(error = %e, "reloading signing keys failed"),
        }
    }
}

/// `gatehouse keys list`: every stored key with its phase.
pub fn describe(store: &Store, settings: &Settings, now: i64) -> Result<Value, TokenError> {
    let retain = retain_secs(settings);
    Ok(Value::Array(
        store
            .list_keys()?
            .iter()
            .map(|k| {
                json!({
                    "kid": k.kid,
                    "alg": k.alg,
                    "created_at": k.created_at,
                    "activates_at": k.activates_at,
                    "retires_at": k.retires_at,
                    "state": k.phase(now, retain).as_str(),
                })
            })
            .collect(),
    ))
}
