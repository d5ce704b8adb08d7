//! "Connected portals" in the profile (ASVS 5.0 10.4.9, 10.7.3): the portals a citizen has let
//! in, and removing one. Which portals count and how consent and grants merge is
//! `oauth::portals`; the hosted page and the JSON API both run these.

use identity::NewAuditEvent;
use oauth::{ConnectedPortal, PortalStore};

use super::session::Citizen;
use crate::http::error::Failure;
use crate::state::AppState;

/// The citizen's connected portals, sorted by name.
pub async fn list(state: &AppState, me: &Citizen) -> Result<Vec<ConnectedPortal>, Failure> {
    let (account, now) = (me.account.id.as_str().to_owned(), AppState::now());
    let facts = state.db(move |s| s.portal_facts(&account, now)).await?;
    Ok(oauth::connected(&facts, now))
}

/// What asking to remove a portal led to.
pub enum Removal {
    /// Its consent and grants are gone; the portal as it was listed.
    Removed(ConnectedPortal),
    /// Not one of the citizen's connected portals (or no such client at all).
    NotConnected,
}

/// Removes `client_id` from the citizen's connected portals: the consent is deleted and every
/// grant of the account with it revoked (refresh tokens refused, access tokens inactive), then
/// audited. Only a listed portal can be removed, so the answer tells nothing about other clients.
pub async fn remove(
    state: &AppState,
    me: &Citizen,
    client_id: &str,
    ip: Option<String>,
) -> Result<Removal, Failure> {
    let Some(portal) = list(state, me).await?.into_iter().find(|p| p.client_id.as_str() == client_id) else {
        return Ok(Removal::NotConnected);
    };
    let (account, client, now) =
        (me.account.id.as_str().to_owned(), portal.client_id.clone(), AppState::now());
    let removed = state.db(move |s| s.remove_portal(&account, &client, now)).await?;
    let event = NewAuditEvent::portal_removed(
        &me.account.id,
        portal.client_id.as_str(),
        removed.consent_deleted,
        removed.grants_revoked,
        ip,
        now,
    );
    state.db(move |s| identity::AuditStore::record_event(s, &event)).await?;
    Ok(Removal::Removed(portal))
}
