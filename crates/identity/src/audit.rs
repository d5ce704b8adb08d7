//! The audit trail: what happened to an account, when, and from where — "profile.updated",
//! "password.changed", "account.deleted". Events name the account by its id as plain text, so
//! they outlive a deleted account (the id is the `sub` a portal knows it by).
//!
//! An event's `detail` says *which* things changed (field names), never their secrets: no
//! password, hash, code or token ever goes in. The constructors below are the way to build
//! events; they take no secret, so none can slip in.

use serde_json::json;

use crate::{AccountId, ProfileField, StoreError};

/// What happened. `as_str` is the stored, exact name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKind {
    ProfileUpdated,
    PasswordChanged,
    AccountDeleted,
    /// A sign-in completed (`detail`: method, and the upstream provider if any).
    SignInSucceeded,
    /// A sign-in of an existing account failed (`detail`: method and reason).
    SignInFailed,
    /// A client revoked a token.
    TokenRevoked,
    /// Tokens were issued to a client for an account: an authorization code redeemed or a
    /// refresh token used (`detail`: the grant type). Machine tokens (`client_credentials`)
    /// are not recorded here: issuing a JWT writes nothing (DESIGN.md); they are counted in
    /// the metrics and logged.
    TokenIssued,
    /// Failed sign-ins reached the lockout threshold (`detail`: until when).
    AccountLocked,
    /// A browser session ended: signed out at a portal (RP-initiated logout), on the hosted
    /// pages or the API, or replaced by a new sign-in (`detail`: the `sid` and how many
    /// back-channel logouts were queued).
    SessionEnded,
    /// Operator actions through the admin API; their `detail` names the target.
    AdminAccountLocked,
    AdminAccountUnlocked,
    AdminAccountDeleted,
    AdminSessionRevoked,
    /// Every session of one account ended, the account left open (`detail`: how many sessions
    /// and back-channel logouts).
    AdminAccountSessionsEnded,
    /// Every session of every account ended at once (`detail`: how many sessions and
    /// back-channel logouts); filed under no account.
    AdminAllSessionsEnded,
    AdminClientCreated,
    AdminClientUpdated,
    AdminClientSecretRotated,
    AdminClientDeleted,
    AdminKeysRotated,
    UpstreamLinked,
    /// The citizen removed a connected portal from the profile: its consent deleted and its
    /// grants revoked (`detail`: the client, whether a consent went, how many grants).
    PortalRemoved,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ProfileUpdated => "profile.updated",
            AuditKind::PasswordChanged => "password.changed",
            AuditKind::AccountDeleted => "account.deleted",
            AuditKind::SignInSucceeded => "sign_in.succeeded",
            AuditKind::SignInFailed => "sign_in.failed",
            AuditKind::TokenRevoked => "token.revoked",
            AuditKind::TokenIssued => "token.issued",
            AuditKind::AccountLocked => "account.locked",
            AuditKind::SessionEnded => "session.ended",
            AuditKind::AdminAccountLocked => "admin.account_locked",
            AuditKind::AdminAccountUnlocked => "admin.account_unlocked",
            AuditKind::AdminAccountDeleted => "admin.account_deleted",
            AuditKind::AdminSessionRevoked => "admin.session_revoked",
            AuditKind::AdminAccountSessionsEnded => "admin.account_sessions_ended",
            AuditKind::AdminAllSessionsEnded => "admin.all_sessions_ended",
            AuditKind::AdminClientCreated => "admin.client_created",
            AuditKind::AdminClientUpdated => "admin.client_updated",
            AuditKind::AdminClientSecretRotated => "admin.client_secret_rotated",
            AuditKind::AdminClientDeleted => "admin.client_deleted",
            AuditKind::AdminKeysRotated => "admin.keys_rotated",
            AuditKind::UpstreamLinked => "account.upstream_linked",
            AuditKind::PortalRemoved => "profile.portal_removed",
        }
    }
}

/// An event to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAuditEvent {
    /// A UUID v4.
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    pub account_id: Option<AccountId>,
    /// The client the event concerns, if any.
    pub client_id: Option<String>,
    pub kind: AuditKind,
    /// The client's address as the server saw it (or as a proxy reported it).
    pub ip: Option<String>,
    /// Which things changed; never a secret.
    pub detail: serde_json::Value,
}

impl NewAuditEvent {
    fn new(
        kind: AuditKind,
        account: &AccountId,
        ip: Option<String>,
        at: i64,
        detail: serde_json::Value,
    ) -> Self {
        NewAuditEvent {
            id: uuid::Uuid::new_v4().to_string(),
            at,
            account_id: Some(account.clone()),
            client_id: None,
            kind,
            ip,
            detail,
        }
    }

    /// The citizen changed these profile fields (names only, not values).
    pub fn profile_updated(
        account: &AccountId,
        fields: &[ProfileField],
        ip: Option<String>,
        at: i64,
    ) -> Self {
        let names: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        Self::new(AuditKind::ProfileUpdated, account, ip, at, json!({ "fields": names }))
    }

    /// The citizen changed their password from the profile; every other session was ended.
    pub fn password_changed(account: &AccountId, ip: Option<String>, at: i64) -> Self {
        Self::new(AuditKind::PasswordChanged, account, ip, at, json!({ "other_sessions_ended": true }))
    }

    /// An operator acted through the admin API: on `account` if any, with `detail` naming the
    /// target (a client id, a session id, key ids) — never a secret. An event whose detail names
    /// a `client_id` is filed under that client too.
    pub fn admin(
        kind: AuditKind,
        account: Option<&AccountId>,
        ip: Option<String>,
        at: i64,
        detail: serde_json::Value,
    ) -> Self {
        NewAuditEvent {
            id: uuid::Uuid::new_v4().to_string(),
            at,
            account_id: account.cloned(),
            client_id: detail.get("client_id").and_then(|c| c.as_str()).map(str::to_owned),
            kind,
            ip,
            detail,
        }
    }

    /// An upstream identity was linked to an existing account by its verified email
    /// (`accounts.method_binding = "link-verified-email"`).
    pub fn upstream_linked(account: &AccountId, provider: &str, ip: Option<String>, at: i64) -> Self {
        Self::new(AuditKind::UpstreamLinked, account, ip, at, json!({ "provider": provider }))
    }

    /// The citizen signed in with `method` (RFC 8176 `amr` values), through `idp` if upstream.
    pub fn sign_in_succeeded(
        account: &AccountId,
        amr: &[String],
        idp: Option<&str>,
        ip: Option<String>,
        at: i64,
    ) -> Self {
        Self::new(AuditKind::SignInSucceeded, account, ip, at, json!({ "amr": amr, "idp": idp }))
    }

    /// A sign-in of this account failed: `reason` is `wrong_password`, `wrong_code` or
    /// `locked` — never what was typed.
    pub fn sign_in_failed(
        account: &AccountId,
        method: &str,
        reason: &str,
        ip: Option<String>,
        at: i64,
    ) -> Self {
        Self::new(AuditKind::SignInFailed, account, ip, at, json!({ "method": method, "reason": reason }))
    }

    /// `client_id` revoked a token (of any account: revocation does not say whose).
    pub fn token_revoked(client_id: &str, ip: Option<String>, at: i64) -> Self {
        NewAuditEvent {
            id: uuid::Uuid::new_v4().to_string(),
            at,
            account_id: None,
            client_id: Some(client_id.to_owned()),
            kind: AuditKind::TokenRevoked,
            ip,
            detail: json!({ "client_id": client_id }),
        }
    }

    /// `client_id` received tokens for `account` by `grant_type` (`authorization_code` or
    /// `refresh_token`).
    pub fn token_issued(
        account: &AccountId,
        client_id: &str,
        grant_type: &str,
        ip: Option<String>,
        at: i64,
    ) -> Self {
        Self::new(AuditKind::TokenIssued, account, ip, at, json!({ "grant_type": grant_type }))
            .for_client(client_id)
    }

    /// The failure just recorded locked the account until `until` (unix seconds).
    pub fn account_locked(account: &AccountId, until: i64, ip: Option<String>, at: i64) -> Self {
        Self::new(AuditKind::AccountLocked, account, ip, at, json!({ "until": until }))
    }

    /// The session `sid` of `account` ended; `backchannel` logouts were queued for portals.
    pub fn session_ended(
        account: &AccountId,
        sid: &str,
        backchannel: usize,
        ip: Option<String>,
        at: i64,
    ) -> Self {
        Self::new(
            AuditKind::SessionEnded,
            account,
            ip,
            at,
            json!({ "sid": sid, "backchannel_logouts": backchannel }),
        )
    }

    /// The same event, naming the client it concerns.
    pub fn for_client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    /// The citizen removed the portal `client_id` under "Connected portals": its consent
    /// deleted (`consent_deleted`) and `grants_revoked` grants revoked.
    pub fn portal_removed(
        account: &AccountId,
        client_id: &str,
        consent_deleted: bool,
        grants_revoked: usize,
        ip: Option<String>,
        at: i64,
    ) -> Self {
        let detail = json!({
            "client_id": client_id,
            "consent_deleted": consent_deleted,
            "grants_revoked": grants_revoked,
        });
        Self::new(AuditKind::PortalRemoved, account, ip, at, detail).for_client(client_id)
    }

    /// The citizen deleted their account.
    pub fn account_deleted(account: &AccountId, ip: Option<String>, at: i64) -> Self {
        Self::new(AuditKind::AccountDeleted, account, ip, at, json!({}))
    }
}

/// A recorded event, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    pub account_id: Option<AccountId>,
    pub client_id: Option<String>,
    /// The stored name; a newer version may have written one this version has no variant for.
    pub kind: String,
    pub ip: Option<String>,
    pub detail: serde_json::Value,
}

/// Where audit events go. Implemented by the `store` crate; each method is one transaction.
pub trait AuditStore {
    fn record_event(&self, event: &NewAuditEvent) -> Result<(), StoreError>;
    /// The account's events, newest first, at most `limit` (for tests and the admin API).
    fn list_events_for(&self, account: &AccountId, limit: usize) -> Result<Vec<AuditEvent>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_their_exact_names() {
        let names = [AuditKind::ProfileUpdated, AuditKind::PasswordChanged, AuditKind::AccountDeleted]
            .map(AuditKind::as_str);
        assert_eq!(names, ["profile.updated", "password.changed", "account.deleted"]);
        let bulk =
            [AuditKind::AdminAccountSessionsEnded, AuditKind::AdminAllSessionsEnded].map(AuditKind::as_str);
        assert_eq!(bulk, ["admin.account_sessions_ended", "admin.all_sessions_ended"]);
    }

    #[test]
    fn a_profile_event_names_the_changed_fields_only() {
        let id = AccountId::from_stored("acc-1".into());
        let event = NewAuditEvent::profile_updated(
            &id,
            &[ProfileField::Name, ProfileField::PhoneNumber],
            Some("203.0.113.9".into()),
            1_700_000_000,
        );
        assert_eq!(event.kind, AuditKind::ProfileUpdated);
        assert_eq!(event.account_id, Some(id));
        assert_eq!(event.detail, json!({ "fields": ["name", "phone_number"] }));
        assert_eq!(event.at, 1_700_000_000);
        assert_eq!(event.id.len(), 36);
    }

    #[test]
    fn client_events_are_filed_under_their_client() {
        let id = AccountId::from_stored("acc-1".into());
        let issued = NewAuditEvent::token_issued(&id, "portal-311", "refresh_token", None, 5);
        assert_eq!((issued.kind.as_str(), issued.client_id.as_deref()), ("token.issued", Some("portal-311")));
        assert_eq!(issued.detail, json!({ "grant_type": "refresh_token" }));
        let revoked = NewAuditEvent::token_revoked("atlcore", None, 5);
        assert_eq!(revoked.client_id.as_deref(), Some("atlcore"));
        let admin = NewAuditEvent::admin(
            AuditKind::AdminClientDeleted,
            None,
            None,
            5,
            json!({ "client_id": "atlcore" }),
        );
        assert_eq!(admin.client_id.as_deref(), Some("atlcore"));
        let keys = NewAuditEvent::admin(AuditKind::AdminKeysRotated, None, None, 5, json!({ "rotated": 1 }));
        assert_eq!(keys.client_id, None);
        let removed = NewAuditEvent::portal_removed(&id, "helper", true, 2, None, 5);
        assert_eq!(
            (removed.kind.as_str(), removed.client_id.as_deref()),
            ("profile.portal_removed", Some("helper"))
        );
        assert_eq!(removed.account_id, Some(id));
        assert_eq!(
            removed.detail,
            json!({ "client_id": "helper", "consent_deleted": true, "grants_revoked": 2 })
        );
    }

    #[test]
    fn every_event_gets_its_own_id() {
        let id = AccountId::from_stored("acc-1".into());
        let (a, b) =
            (NewAuditEvent::password_changed(&id, None, 1), NewAuditEvent::account_deleted(&id, None, 1));
        assert_ne!(a.id, b.id);
        assert_eq!(b.detail, json!({}));
    }
}
