//! The retention purge (`Store::purge`), on a SQLite file and on PostgreSQL: what has lapsed
//! goes, what can still change an answer stays, and a second purge finds nothing.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use common::Db;
use gatehouse_store::Retention;
use identity::{AccountId, AuditStore, IdleTimeout, NewAuditEvent, NewSession, SessionStore};
use oauth::{Client, ClientStore, GrantId, GrantStore, NewRefreshToken, RefreshTokenStore};
use tokens::TokenHash;

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

contract!(the_purge_takes_what_lapsed_and_keeps_what_still_matters);

const RETENTION: Retention = Retention {
    grace: DAY,
    token_lifetime: 600,
    delivered: 7 * DAY,
    failed: 30 * DAY,
    audit: None,
    idle: IdleTimeout::OFF,
};

fn client() -> Client {
    common::portal_client(NOW - 90 * DAY)
}

fn refresh(client: &Client, grant: &GrantId, secret: &str, expires_at: i64) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: TokenHash::of(secret),
        grant_id: grant.clone(),
        client_id: client.id.clone(),
        subject: AccountId::generate().to_string(),
        scope: "openid offline_access".into(),
        session_id: "sid-1".into(),
        auth_time: expires_at - DAY,
        amr: vec!["pwd".into()],
        family_issued_at: expires_at - DAY,
        created_at: expires_at - DAY,
        expires_at,
        idp: None,
    }
}

fn session(account: &AccountId, secret: &str, expires_at: i64) -> NewSession {
    NewSession {
        id: uuid::Uuid::new_v4().to_string(),
        token_hash: TokenHash::of(secret),
        account_id: account.clone(),
        auth_time: expires_at - DAY,
        amr: vec!["pwd".into()],
        persistent: false,
        created_at: expires_at - DAY,
        expires_at,
        idp: None,
    }
}

fn count(purged: &[(&'static str, usize)], table: &str) -> usize {
    purged.iter().find(|(t, _)| *t == table).map(|(_, n)| *n).unwrap()
}

fn the_purge_takes_what_lapsed_and_keeps_what_still_matters(db: &Db) {
    let c = client();
    db.insert_client(&c).unwrap();
    let account = common::account(db, "ole@example.org", NOW - 90 * DAY);

    // Refresh tokens: one long expired, one live, one live but of a grant revoked days ago
    // (presenting it fails either way), one of a grant revoked a minute ago (kept: inside grace).
    let (live_grant, old_revoked, new_revoked) =
        (GrantId::generate(), GrantId::generate(), GrantId::generate());
    let expired = refresh(&c, &GrantId::generate(), "expired", NOW - 2 * DAY);
    let live = refresh(&c, &live_grant, "live", NOW + DAY);
    let of_old_revoked = refresh(&c, &old_revoked, "of old revoked", NOW + DAY);
    let of_new_revoked = refresh(&c, &new_revoked, "of new revoked", NOW + DAY);
    for t in [&expired, &live, &of_old_revoked, &of_new_revoked] {
        let issued = oauth::Issuance {
            subject: t.subject.clone(),
            client_id: t.client_id.clone(),
            grant_type: "authorization_code",
            ip: None,
            at: t.created_at,
        };
        db.insert_refresh_token(t, &issued).unwrap();
    }
    db.revoke_grant(&old_revoked, NOW - 3 * DAY).unwrap();
    db.revoke_grant(&new_revoked, NOW - 60).unwrap();

    // Sessions: one expired an hour ago, one live.
    db.create_session(&session(&account, "gone", NOW - 3600)).unwrap();
    db.create_session(&session(&account, "here", NOW + 3600)).unwrap();

    db.record_event(&NewAuditEvent::account_deleted(&account, None, NOW - 500 * DAY)).unwrap();

    let purged = db.purge(&RETENTION, NOW).unwrap();
    assert_eq!(count(&purged, "refresh_tokens"), 2, "{purged:?}");
    assert_eq!(db.find_refresh_token(&expired.token_hash).unwrap(), None);
    assert_eq!(db.find_refresh_token(&of_old_revoked.token_hash).unwrap(), None);
    assert!(db.find_refresh_token(&live.token_hash).unwrap().is_some());
    assert!(db.find_refresh_token(&of_new_revoked.token_hash).unwrap().is_some());
    assert_eq!(count(&purged, "revoked_grants"), 1, "the old revocation, with no token left");
    assert!(!db.is_grant_revoked(&old_revoked).unwrap());
    assert!(db.is_grant_revoked(&new_revoked).unwrap(), "its access tokens may still be out there");
    assert_eq!(count(&purged, "sessions"), 1);
    assert!(db.find_session(&TokenHash::of("here"), NOW, &IdleTimeout::OFF).unwrap().is_some());
    assert!(purged.iter().all(|(t, _)| *t != "audit_events"), "no audit retention: not even asked");
    assert_eq!(db.list_events_for(&account, 10).unwrap().len(), 1);

    let again = db.purge(&RETENTION, NOW).unwrap();
    assert!(again.iter().all(|(_, n)| *n == 0), "a second purge finds nothing: {again:?}");

    // With an audit retention of a year, the 500-day-old event goes.
    let yearly = Retention { audit: Some(365 * DAY), ..RETENTION };
    assert_eq!(count(&db.purge(&yearly, NOW).unwrap(), "audit_events"), 1);
    assert!(db.list_events_for(&account, 10).unwrap().is_empty());
}
