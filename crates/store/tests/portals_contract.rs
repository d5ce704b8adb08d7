//! The connected portals store contract (`oauth::PortalStore`): what an account's consents and
//! refresh tokens are read as, and what removing a portal deletes and revokes. Each suite
//! function runs on a SQLite file and on a PostgreSQL database, as in `contract.rs`. Races
//! included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use gatehouse_store::Store;
use oauth::{
    Client, ClientStore, CodeStore, ConsentStore, GrantId, GrantStore, Issuance, NewRefreshToken,
    PortalRemoval, PortalStore, RefreshTokenStore, StoredConsent, StoredFamily, SubjectStanding,
};
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;
const RACERS: usize = 20;

contract!(
    an_account_without_portals_has_no_facts,
    facts_hold_consents_and_unused_refresh_tokens_with_client_names,
    removing_a_portal_deletes_its_consent_and_revokes_its_grants_only,
    removing_twice_revokes_nothing_more,
    parallel_removals_of_one_portal_all_succeed,
);

fn portal(store: &Store, name: &str) -> Client {
    let c = Client { name: name.into(), ..common::portal_client(T0) };
    store.insert_client(&c).unwrap();
    c
}

fn refresh(client: &Client, account: &str, secret: &str, grant: &GrantId, at: i64) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: TokenHash::of(secret),
        grant_id: grant.clone(),
        client_id: client.id.clone(),
        subject: account.into(),
        scope: "openid offline_access".into(),
        session_id: "sid-1".into(),
        auth_time: T0,
        amr: vec!["pwd".into()],
        family_issued_at: T0,
        created_at: at,
        expires_at: at + 3600,
        idp: None,
    }
}

fn issued(t: &NewRefreshToken, at: i64) -> Issuance {
    Issuance {
        subject: t.subject.clone(),
        client_id: t.client_id.clone(),
        grant_type: "authorization_code",
        ip: None,
        at,
    }
}

/// `account` signed in to `client` (grant `grant`) and was given a refresh token.
fn grant_with_refresh(
    store: &Store,
    client: &Client,
    account: &str,
    name: &str,
) -> (GrantId, NewRefreshToken) {
    let grant = GrantId::generate();
    store.insert_code(&common::code(client, account, &format!("code {name}"), &grant, T0)).unwrap();
    let t = refresh(client, account, &format!("refresh {name}"), &grant, T0);
    store.insert_refresh_token(&t, &issued(&t, T0)).unwrap();
    (grant, t)
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

fn an_account_without_portals_has_no_facts(store: &Store) {
    let ole = common::account(store, "ole@example.org", T0);
    let facts = store.portal_facts(ole.as_str(), T0).unwrap();
    assert!(facts.consents.is_empty() && facts.families.is_empty());
    assert_eq!(facts.standing, SubjectStanding::Active { tokens_revoked_at: None });
    assert_eq!(store.portal_facts("nobody", T0).unwrap().standing, SubjectStanding::Unknown);
}

fn facts_hold_consents_and_unused_refresh_tokens_with_client_names(store: &Store) {
    let helper = portal(store, "Permit helper");
    let city = portal(store, "311");
    let ole = common::account(store, "ole@example.org", T0).as_str().to_owned();
    let ada = common::account(store, "ada@example.org", T0).as_str().to_owned();
    store.save_consent(&ole, &helper.id, &scopes(&["openid", "email"]), T0 + 5).unwrap();
    store.save_consent(&ada, &city.id, &scopes(&["openid"]), T0).unwrap();
    let (grant, first) = grant_with_refresh(store, &city, &ole, "city");
    // Rotated once: only the unused successor is the family's current token.
    let next = refresh(&city, &ole, "refresh city 2", &grant, T0 + 10);
    store.rotate_refresh_token(&first.token_hash, &next, T0 + 10, &issued(&next, T0 + 10)).unwrap();
    let (revoked, _) = grant_with_refresh(store, &helper, &ole, "helper");
    store.revoke_grant(&revoked, T0 + 20).unwrap();

    let facts = store.portal_facts(&ole, T0 + 30).unwrap();
    assert_eq!(
        facts.consents,
        vec![StoredConsent {
            client_id: helper.id.clone(),
            client_name: "Permit helper".into(),
            scopes: scopes(&["openid", "email"]),
            granted_at: T0 + 5,
        }]
    );
    let mut families = facts.families.clone();
    families.sort_by_key(|f| f.grant_revoked);
    assert_eq!(
        families,
        vec![
            StoredFamily {
                client_id: city.id.clone(),
                client_name: "311".into(),
                scope: "openid offline_access".into(),
                family_issued_at: T0,
                expires_at: T0 + 10 + 3600,
                grant_revoked: false,
            },
            StoredFamily {
                client_id: helper.id.clone(),
                client_name: "Permit helper".into(),
                scope: "openid offline_access".into(),
                family_issued_at: T0,
                expires_at: T0 + 3600,
                grant_revoked: true,
            },
        ]
    );
    let listed: Vec<String> = oauth::connected(&facts, T0 + 30).into_iter().map(|p| p.name).collect();
    assert_eq!(listed, ["311", "Permit helper"]);
}

fn removing_a_portal_deletes_its_consent_and_revokes_its_grants_only(store: &Store) {
    let helper = portal(store, "Permit helper");
    let city = portal(store, "311");
    let ole = common::account(store, "ole@example.org", T0).as_str().to_owned();
    let ada = common::account(store, "ada@example.org", T0).as_str().to_owned();
    store.save_consent(&ole, &helper.id, &scopes(&["openid"]), T0).unwrap();
    store.save_consent(&ada, &helper.id, &scopes(&["openid"]), T0).unwrap();
    store.save_consent(&ole, &city.id, &scopes(&["openid"]), T0).unwrap();
    let (g1, _) = grant_with_refresh(store, &helper, &ole, "ole 1");
    let (g2, _) = grant_with_refresh(store, &helper, &ole, "ole 2");
    // A grant of a code alone (no refresh token): its access tokens carry it too.
    let g3 = GrantId::generate();
    store.insert_code(&common::code(&helper, &ole, "code only", &g3, T0)).unwrap();
    let (ada_grant, _) = grant_with_refresh(store, &helper, &ada, "ada");
    let (city_grant, _) = grant_with_refresh(store, &city, &ole, "city");

    let removed = store.remove_portal(&ole, &helper.id, T0 + 100).unwrap();
    assert_eq!(removed, PortalRemoval { consent_deleted: true, grants_revoked: 3 });
    assert_eq!(store.find_consent(&ole, &helper.id).unwrap(), None);
    for g in [&g1, &g2, &g3] {
        assert!(store.is_grant_revoked(g).unwrap());
    }
    // Another account with the same portal, and another portal of the same account, stand.
    assert_eq!(store.find_consent(&ada, &helper.id).unwrap(), Some(scopes(&["openid"])));
    assert_eq!(store.find_consent(&ole, &city.id).unwrap(), Some(scopes(&["openid"])));
    assert!(!store.is_grant_revoked(&ada_grant).unwrap());
    assert!(!store.is_grant_revoked(&city_grant).unwrap());
    let listed: Vec<String> = oauth::connected(&store.portal_facts(&ole, T0 + 100).unwrap(), T0 + 100)
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(listed, ["311"]);
}

fn removing_twice_revokes_nothing_more(store: &Store) {
    let helper = portal(store, "Permit helper");
    let ole = common::account(store, "ole@example.org", T0).as_str().to_owned();
    let (grant, _) = grant_with_refresh(store, &helper, &ole, "once");
    assert_eq!(
        store.remove_portal(&ole, &helper.id, T0 + 1).unwrap(),
        PortalRemoval { consent_deleted: false, grants_revoked: 1 }
    );
    assert_eq!(
        store.remove_portal(&ole, &helper.id, T0 + 2).unwrap(),
        PortalRemoval { consent_deleted: false, grants_revoked: 0 }
    );
    assert!(store.is_grant_revoked(&grant).unwrap());
    assert_eq!(
        store.remove_portal("nobody", &helper.id, T0 + 3).unwrap(),
        PortalRemoval { consent_deleted: false, grants_revoked: 0 }
    );
}

fn parallel_removals_of_one_portal_all_succeed(store: &Store) {
    let helper = portal(store, "Permit helper");
    let ole = common::account(store, "ole@example.org", T0).as_str().to_owned();
    store.save_consent(&ole, &helper.id, &scopes(&["openid"]), T0).unwrap();
    let grants: Vec<GrantId> =
        (0..3).map(|i| grant_with_refresh(store, &helper, &ole, &format!("g{i}")).0).collect();
    let barrier = Barrier::new(RACERS);
    let outcomes: Vec<PortalRemoval> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let (store, barrier, helper, ole) = (store.clone(), &barrier, &helper, &ole);
                s.spawn(move || {
                    barrier.wait();
                    store.remove_portal(ole, &helper.id, T0 + 1).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| o.consent_deleted).count(), 1, "{outcomes:?}");
    let revoked: usize = outcomes.iter().map(|o| o.grants_revoked).sum();
    assert_eq!(revoked, grants.len(), "each grant revoked once: {outcomes:?}");
    for g in &grants {
        assert!(store.is_grant_revoked(g).unwrap());
    }
    assert_eq!(store.find_consent(&ole, &helper.id).unwrap(), None);
}
