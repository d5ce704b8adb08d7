//! Connected portals (ASVS 5.0 10.4.9, 10.7.3): the clients a citizen has let in, as the
//! profile shows them, and what removing one takes away.
//!
//! A portal is connected to an account when the account has a stored consent for it (a
//! third-party client, or any client after `prompt=consent`) or a live refresh token family with
//! it: the family's current token is unused, unexpired, its grant not revoked, and issued after
//! the account's tokens were last revoked (a password change). A first-party portal that got an
//! access token without `offline_access` is not listed: nothing of it outlives the access token's
//! ten minutes.
//!
//! Removing a portal deletes its consent and revokes every grant of the account with it (from
//! its codes and refresh tokens), so its refresh tokens are refused and its access tokens fail
//! introspection and userinfo; the next authorization request of a third-party portal asks
//! consent again. It is not a block: signing in to the portal later works.

use crate::authorize::consent::describe_scope;
use crate::store::{ClientId, StoreError, SubjectStanding};

/// A stored consent of the account (`ConsentStore::save_consent`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConsent {
    pub client_id: ClientId,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
}

/// An unused refresh token of the account: the current token of one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFamily {
    pub client_id: ClientId,
    pub client_name: String,
    /// Space-separated scopes the family was granted.
    pub scope: String,
    pub family_issued_at: i64,
    pub expires_at: i64,
    pub grant_revoked: bool,
}

/// What the store knows about an account's portals, read in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalFacts {
    pub consents: Vec<StoredConsent>,
    pub families: Vec<StoredFamily>,
    pub standing: SubjectStanding,
}

/// One connected portal, as the profile lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedPortal {
    pub client_id: ClientId,
    pub name: String,
    /// What it may see: the consented scopes, then any other scope a live family carries.
    pub scopes: Vec<String>,
    /// Since when (unix seconds): the earliest of the consent and the live families.
    pub since: i64,
    /// It holds a live refresh token: it can keep the citizen signed in (offline access).
    pub keeps_signed_in: bool,
}

impl ConnectedPortal {
    /// The scopes in the citizen's words (the consent page's), each sentence once.
    pub fn described_scopes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for scope in &self.scopes {
            let words = describe_scope(scope);
            if !out.contains(&words) {
                out.push(words);
            }
        }
        out
    }
}

/// What removing a portal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortalRemoval {
    pub consent_deleted: bool,
    /// Grants newly revoked (one already revoked is not counted again).
    pub grants_revoked: usize,
}

/// Where consents and grants of an account are read and removed. Implemented by the `store`
/// crate; each method is one transaction.
pub trait PortalStore {
    /// The account's consents and unused refresh tokens, with their clients' names, and its
    /// standing at `now`.
    fn portal_facts(&self, account: &str, now: i64) -> Result<PortalFacts, StoreError>;
    /// Deletes the account's consent for `client` and revokes, at `now`, every grant the account
    /// has with it: those of its codes and of its refresh tokens.
    fn remove_portal(&self, account: &str, client: &ClientId, now: i64) -> Result<PortalRemoval, StoreError>;
}

impl StoredFamily {
    /// Whether the family can still be refreshed (the refresh grant's own checks, `token::refresh`).
    /// A locked account's families stand: the lock passes and they work again.
    fn is_live(&self, standing: SubjectStanding, now: i64) -> bool {
        let account_allows = match standing {
            SubjectStanding::Locked => true,
            other => other.allows(self.family_issued_at),
        };
        now < self.expires_at && !self.grant_revoked && account_allows
    }
}

/// Every connected portal of the account, one per client, sorted by name (then id).
pub fn connected(facts: &PortalFacts, now: i64) -> Vec<ConnectedPortal> {
    if facts.standing == SubjectStanding::Unknown {
        return Vec::new();
    }
    let mut out: Vec<ConnectedPortal> = Vec::new();
    for c in &facts.consents {
        let portal = entry(&mut out, &c.client_id, &c.client_name, c.granted_at);
        add_scopes(portal, c.scopes.iter().map(String::as_str));
    }
    for f in facts.families.iter().filter(|f| f.is_live(facts.standing, now)) {
        let portal = entry(&mut out, &f.client_id, &f.client_name, f.family_issued_at);
        add_scopes(portal, f.scope.split(' ').filter(|s| !s.is_empty()));
        portal.keeps_signed_in = true;
    }
    out.sort_by(|a, b| {
        let by_name = a.name.to_lowercase().cmp(&b.name.to_lowercase());
        by_name.then_with(|| a.client_id.as_str().cmp(b.client_id.as_str()))
    });
    out
}

/// The portal of `id` in `out`, added if new; `since` is kept as the earliest seen.
fn entry<'a>(
    out: &'a mut Vec<ConnectedPortal>,
    id: &ClientId,
    name: &str,
    since: i64,
) -> &'a mut ConnectedPortal {
    match out.iter().position(|p| &p.client_id == id) {
        Some(i) => {
            let portal = &mut out[i];
            portal.since = portal.since.min(since);
            portal
        }
        None => {
            out.push(ConnectedPortal {
                client_id: id.clone(),
                name: name.to_owned(),
                scopes: Vec::new(),
                since,
                keeps_signed_in: false,
            });
            let last = out.len() - 1;
            &mut out[last]
        }
    }
}

fn add_scopes<'s>(portal: &mut ConnectedPortal, scopes: impl Iterator<Item = &'s str>) {
    for s in scopes {
        if !portal.scopes.iter().any(|have| have == s) {
            portal.scopes.push(s.to_owned());
        }
    }
}

#[cfg(test)]
#[path = "portals_tests.rs"]
mod tests;
