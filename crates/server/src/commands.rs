//! The operator commands behind the CLI (`gatehouse client …`, `user …`, `session …`,
//! `keys …`). Each returns JSON to print, or an error whose `Display` is one line saying what
//! to fix.

use identity::{AccountRegistration, AccountStore, CreateAccount, HashPool};
use oauth::{ClientId, ClientRegistration, ClientStore};
use serde_json::{Value, json};
use tokens::KeyStore;

use crate::settings::Settings;
use crate::startup::{self, StartError};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Start(#[from] StartError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Store(String),
}

fn store_error(e: impl std::fmt::Display) -> CommandError {
    CommandError::Store(e.to_string())
}

pub fn client_create(settings: &Settings, registration: ClientRegistration) -> Result<Value, CommandError> {
    // Validate before touching the database, so a typo changes nothing.
    let (mut client, secret) = oauth::client::register(registration, AppState::now())
        .map_err(|e| CommandError::Invalid(e.to_string()))?;
    if let Some(secret) = &secret {
        // client_secret_jwt: the secret is also kept sealed (docs/client-authentication.md).
        oauth::seal_client_secret(&mut client, secret, &startup::master_key(settings)?);
    }
    let store = startup::open_store(settings)?;
    store.insert_client(&client).map_err(store_error)?;
    let mut out = client_json(&client);
    out["client_secret"] = secret.map_or(Value::Null, |s| Value::String(s.expose().to_owned()));
    Ok(out)
}

/// The JWKS document a `--jwks FILE` names.
pub fn read_jwks(path: &std::path::Path) -> Result<String, CommandError> {
    std::fs::read_to_string(path)
        .map_err(|e| CommandError::Invalid(format!("cannot read the JWKS file {}: {e}", path.display())))
}

pub fn client_list(settings: &Settings) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    let clients = store.list_clients().map_err(store_error)?;
    Ok(Value::Array(clients.iter().map(client_json).collect()))
}

pub fn client_delete(settings: &Settings, id: &str) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    if !store.delete_client(&ClientId::from_stored(id.to_owned())).map_err(store_error)? {
        return Err(CommandError::NotFound(format!("no client with id {id} (see `gatehouse client list`)")));
    }
    Ok(json!({ "deleted": id }))
}

pub(crate) fn client_json(c: &oauth::Client) -> Value {
    json!({
        "client_id": c.id,
        "name": c.name,
        "public": c.is_public(),
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "backchannel_logout_uri": c.backchannel_logout_uri,
        // Back-Channel Logout §2.2: every logout token gatehouse sends carries `sid`.
        "backchannel_logout_session_required": c.backchannel_logout_uri.is_some(),
        "grant_types": c.grant_types,
        "scopes": c.scopes,
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        // RFC 7591 §2: private_key_jwt keys, by value or by reference.
        "jwks": c.keys.jwks.as_deref().and_then(|doc| serde_json::from_str::<Value>(doc).ok()),
        "jwks_uri": c.keys.jwks_uri,
        "id_token_signed_response_alg": c.id_token_signed_response_alg,
        "extra_claims": c.extra_claims,
        "audiences": c.audiences,
        "refresh_token_idle_ttl": c.refresh_token_idle_ttl,
        "refresh_token_absolute_ttl": c.refresh_token_absolute_ttl,
        "first_party": c.first_party,
        "require_pushed_authorization_requests": c.require_pushed_authorization_requests,
        "created_at": c.created_at,
    })
}

pub async fn user_create(
    settings: &Settings,
    registration: AccountRegistration,
) -> Result<Value, CommandError> {
    let pool =
        HashPool::new(settings.passwords.argon2.clone(), 1).map_err(|e| CommandError::Start(e.into()))?;
    let account = registration
        .prepare(&settings.passwords.policy, &pool, AppState::now())
        .await
        .map_err(|e| CommandError::Invalid(e.to_string()))?;
    let store = startup::open_store(settings)?;
    match store.create_account(&account).map_err(store_error)? {
        CreateAccount::Created(a) => Ok(account_json(&a)),
        CreateAccount::EmailTaken => {
            Err(CommandError::Invalid(format!("an account with email {} already exists", account.email)))
        }
    }
}

pub fn user_import(settings: &Settings, path: &std::path::Path) -> Result<Value, CommandError> {
    let accounts = crate::import::read(path, AppState::now()).map_err(CommandError::Invalid)?;
    let store = startup::open_store(settings)?;
    let outcomes = identity::RegistrationStore::import_accounts(&store, &accounts).map_err(store_error)?;
    let existing: Vec<&str> = accounts
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == identity::Imported::Exists)
        .map(|(a, _)| a.email.as_str())
        .collect();
    Ok(json!({ "imported": accounts.len() - existing.len(), "already_existing": existing }))
}

pub fn user_list(settings: &Settings) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    let mut all = Vec::new();
    let page = 500;
    loop {
        let batch = store.list_accounts(page, all.len() as i64).map_err(store_error)?;
        let done = (batch.len() as i64) < page;
        all.extend(batch.iter().map(account_json));
        if done {
            break;
        }
    }
    Ok(Value::Array(all))
}

/// `gatehouse session end --email E`: every session of that account ends, as
/// `DELETE /admin/v1/accounts/{id}/sessions` (recorded with no address).
pub fn sessions_end_of(settings: &Settings, email: &str) -> Result<Value, CommandError> {
    let unknown =
        || CommandError::NotFound(format!("no account with email {email} (see `gatehouse user list`)"));
    let parsed = identity::Email::parse(email).map_err(|_| unknown())?;
    let store = startup::open_store(settings)?;
    let account = store.find_account_by_email(&parsed).map_err(store_error)?.ok_or_else(unknown)?;
    let ended = crate::flows::end_sessions::of_account(&store, &account.id, None, AppState::now())
        .map_err(store_error)?;
    let mut out = crate::flows::end_sessions::detail(ended);
    out["account_id"] = json!(account.id);
    Ok(out)
}

/// `gatehouse session end --all`: every session of every account ends, as
/// `DELETE /admin/v1/sessions`. The running nodes deliver the queued back-channel logouts.
pub fn sessions_end_all(settings: &Settings) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    let ended = crate::flows::end_sessions::all(&store, None, AppState::now()).map_err(store_error)?;
    Ok(crate::flows::end_sessions::detail(ended))
}

pub(crate) fn account_json(a: &identity::Account) -> Value {
    json!({
        "id": a.id,
        "email": a.email,
        "email_verified": a.email_verified,
        "name": a.name,
        "created_at": a.created_at,
    })
}

pub fn keys_list(settings: &Settings) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    crate::keys::describe(&store, settings, AppState::now()).map_err(store_error)
}

/// `gatehouse keys rotate [--alg A]`: a new key per algorithm, published now and signing after
/// `keys.publish_lead_secs`, when the current one retires.
pub fn keys_rotate(settings: &Settings, alg: Option<&str>) -> Result<Value, CommandError> {
    use tokens::rotation::{RotateWhen, Rotation};
    let algs = match alg {
        None => tokens::Algorithm::ALL.to_vec(),
        Some(name) => vec![tokens::Algorithm::parse(name).ok_or_else(|| {
            CommandError::Invalid(format!("unknown algorithm {name:?}: use RS256 or ES256"))
        })?],
    };
    let store = startup::open_store(settings)?;
    let master = startup::master_key(settings)?;
    // Opening the set first generates the keys of a database that has none, and checks the
    // master key opens the stored ones.
    let keys = crate::keys::Keys::load(&store, master, settings, AppState::now()).map_err(store_error)?;
    let now = AppState::now();
    let mut rotated = Vec::new();
    for alg in algs {
        let done = crate::keys::rotate(&store, keys.master(), settings, &[alg], RotateWhen::Now, now)
            .map_err(store_error)?;
        let Some((_, decision, kid)) = done.into_iter().next() else {
            let pending = store.list_keys().map_err(store_error)?;
            let waiting = pending.iter().find(|k| k.alg == alg.as_str() && k.activates_at > now);
            return Err(CommandError::Invalid(match waiting {
                Some(k) => format!(
                    "a {alg} key ({}) is already waiting to take over at {}: rotate again after that",
                    k.kid, k.activates_at
                ),
                None => format!("the {alg} key was not rotated: try again"),
            }));
        };
        if let Rotation::Rotate { at, retire } = decision {
            rotated.push(json!({ "alg": alg.as_str(), "kid": kid, "activates_at": at, "retires": retire }));
        }
    }
    Ok(json!({ "rotated": rotated }))
}

/// `gatehouse purge`: the retention purge the nodes run on a schedule, once, now.
pub fn purge(settings: &Settings) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    let retention = settings.maintenance.retention(&settings.tokens, &settings.sessions);
    let purged = store.purge(&retention, AppState::now()).map_err(store_error)?;
    let tables: serde_json::Map<String, Value> =
        purged.into_iter().map(|(table, n)| (table.to_owned(), json!(n))).collect();
    Ok(json!({ "purged": tables }))
}

pub fn migrate(settings: &Settings) -> Result<Value, CommandError> {
    let store = startup::open_store(settings)?;
    Ok(json!({ "migrated": store.describe() }))
}

/// `gatehouse admin token`: a 256-bit random token and the hash to configure.
pub fn admin_token() -> Value {
    let token = tokens::OpaqueToken::generate();
    json!({ "token": token.expose(), "token_sha256": token.hash().as_str() })
}
