//! The consent, pushed request and claims store contract (`oauth::{ConsentStore,
//! PushedRequestStore}`, `GrantStore::grant_claims`, `SubjectStore::subject_profile`): each suite
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
use identity::{AccountId, AccountStore, CreateAccount, Email, NewAccount};
use oauth::{
    Client, ClientId, ClientStore, CodeStore, ConsentStore, GrantId, GrantStore, NewCode, PushedRequest,
    PushedRequestStore, SubjectStore,
};
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;
const RACERS: usize = 50;

contract!(
    consent_is_saved_replaced_and_kept_per_account_and_client,
    consents_go_with_their_client,
    parallel_first_consents_of_one_account_all_land,
    a_pushed_request_is_taken_once_and_never_after_it_expires,
    fifty_parallel_takes_of_one_pushed_request_have_one_winner,
    pushed_requests_go_with_their_client,
    a_code_with_claims_keeps_them_for_its_grant,
    new_clients_flags_are_stored,
    subject_profile_reads_the_account,
);

fn client(first_party: bool) -> Client {
    Client {
        id: ClientId::generate(),
        name: "Permit helper".into(),
        secret_hash: Some(TokenHash::of("client secret")),
        redirect_uris: vec!["https://helper.example/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec![],
        created_at: T0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party,
        require_pushed_authorization_requests: !first_party,
        backchannel_logout_uri: None,
    }
}

fn stored_client(store: &Store) -> Client {
    let c = client(false);
    store.insert_client(&c).unwrap();
    c
}

fn account(store: &Store, email: &str) -> String {
    let new = NewAccount {
        id: AccountId::generate(),
        email: Email::parse(email).unwrap(),
        email_verified: true,
        name: Some("Ole Mae".into()),
        given_name: Some("Ole".into()),
        family_name: None,
        phone_number: Some("+1 404 555 0100".into()),
        password_hash: None,
        created_at: T0,
    };
    let CreateAccount::Created(a) = store.create_account(&new).unwrap() else { panic!("email taken") };
    a.id.as_str().to_owned()
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

fn pushed(client: &Client, secret: &str, expires_at: i64) -> PushedRequest {
    PushedRequest {
        uri_hash: TokenHash::of(secret),
        client_id: client.id.clone(),
        params: r#"{"response_type":"code","scope":"openid"}"#.into(),
        created_at: T0,
        expires_at,
    }
}

fn consent_is_saved_replaced_and_kept_per_account_and_client(store: &Store) {
    let c = stored_client(store);
    let other = stored_client(store);
    let ole = account(store, "ole@example.org");
    let ada = account(store, "ada@example.org");
    assert_eq!(store.find_consent(&ole, &c.id).unwrap(), None);
    store.save_consent(&ole, &c.id, &scopes(&["openid"]), T0).unwrap();
    assert_eq!(store.find_consent(&ole, &c.id).unwrap(), Some(scopes(&["openid"])));
    store.save_consent(&ole, &c.id, &scopes(&["openid", "email"]), T0 + 1).unwrap();
    assert_eq!(store.find_consent(&ole, &c.id).unwrap(), Some(scopes(&["openid", "email"])));
    assert_eq!(store.find_consent(&ada, &c.id).unwrap(), None);
    assert_eq!(store.find_consent(&ole, &other.id).unwrap(), None);
}

fn consents_go_with_their_client(store: &Store) {
    let c = stored_client(store);
    let ole = account(store, "ole@example.org");
    store.save_consent(&ole, &c.id, &scopes(&["openid"]), T0).unwrap();
    assert!(store.delete_client(&c.id).unwrap());
    store.insert_client(&c).unwrap();
    assert_eq!(store.find_consent(&ole, &c.id).unwrap(), None);
}

fn parallel_first_consents_of_one_account_all_land(store: &Store) {
    let c = stored_client(store);
    let ole = account(store, "ole@example.org");
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        for i in 0..8 {
            let (store, barrier, c, ole) = (store.clone(), &barrier, &c, &ole);
            s.spawn(move || {
                barrier.wait();
                store.save_consent(ole, &c.id, &scopes(&["openid"]), T0 + i).unwrap();
            });
        }
    });
    assert_eq!(store.find_consent(&ole, &c.id).unwrap(), Some(scopes(&["openid"])));
}

fn a_pushed_request_is_taken_once_and_never_after_it_expires(store: &Store) {
    let c = stored_client(store);
    let row = pushed(&c, "uri-1", T0 + 60);
    store.insert_pushed_request(&row).unwrap();
    assert_eq!(store.take_pushed_request(&row.uri_hash, T0 + 59).unwrap(), Some(row.clone()));
    assert_eq!(store.take_pushed_request(&row.uri_hash, T0 + 59).unwrap(), None, "single use");
    let late = pushed(&c, "uri-2", T0 + 60);
    store.insert_pushed_request(&late).unwrap();
    assert_eq!(store.take_pushed_request(&late.uri_hash, T0 + 60).unwrap(), None, "expired");
    assert_eq!(store.take_pushed_request(&TokenHash::of("unknown"), T0).unwrap(), None);
    // A later push clears what expired; what is still valid stays.
    let live = pushed(&c, "uri-3", T0 + 200);
    store.insert_pushed_request(&live).unwrap();
    store
        .insert_pushed_request(&PushedRequest { created_at: T0 + 100, ..pushed(&c, "uri-4", T0 + 160) })
        .unwrap();
    assert_eq!(store.take_pushed_request(&live.uri_hash, T0 + 100).unwrap(), Some(live));
}

fn fifty_parallel_takes_of_one_pushed_request_have_one_winner(store: &Store) {
    let c = stored_client(store);
    let row = pushed(&c, "raced", T0 + 60);
    store.insert_pushed_request(&row).unwrap();
    let barrier = Barrier::new(RACERS);
    let wins = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let (store, barrier, hash) = (store.clone(), &barrier, &row.uri_hash);
                s.spawn(move || {
                    barrier.wait();
                    store.take_pushed_request(hash, T0).unwrap().is_some()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).filter(|w| *w).count()
    });
    assert_eq!(wins, 1);
}

fn pushed_requests_go_with_their_client(store: &Store) {
    let c = stored_client(store);
    let row = pushed(&c, "gone", T0 + 60);
    store.insert_pushed_request(&row).unwrap();
    assert!(store.delete_client(&c.id).unwrap());
    store.insert_client(&c).unwrap();
    assert_eq!(store.take_pushed_request(&row.uri_hash, T0).unwrap(), None);
}

fn a_code_with_claims_keeps_them_for_its_grant(store: &Store) {
    let c = stored_client(store);
    let code = |secret: &str, claims: Option<&str>| NewCode {
        code_hash: TokenHash::of(secret),
        grant_id: GrantId::generate(),
        client_id: c.id.clone(),
        redirect_uri: c.redirect_uris[0].clone(),
        subject: "acct-1".into(),
        scope: "openid".into(),
        nonce: None,
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        auth_time: T0,
        amr: vec![],
        session_id: "sid".into(),
        claims: claims.map(str::to_owned),
        idp: None,
        created_at: T0,
        expires_at: T0 + 60,
    };
    let with = code("with", Some(r#"{"id_token":{"email":null}}"#));
    let without = code("without", None);
    store.insert_code(&with).unwrap();
    store.insert_code(&without).unwrap();
    assert_eq!(store.grant_claims(&with.grant_id).unwrap(), with.claims);
    assert_eq!(store.grant_claims(&without.grant_id).unwrap(), None);
    match store.redeem_code(&with.code_hash, T0).unwrap() {
        oauth::Redeem::Fresh(redeemed) => assert_eq!(redeemed.claims, with.claims),
        other => panic!("expected a fresh code, got {other:?}"),
    }
}

fn new_clients_flags_are_stored(store: &Store) {
    for first_party in [true, false] {
        let c = client(first_party);
        store.insert_client(&c).unwrap();
        let found = store.find_client(&c.id).unwrap().unwrap();
        assert_eq!(found.first_party, first_party);
        assert_eq!(found.require_pushed_authorization_requests, !first_party);
        assert_eq!(found, c);
    }
}

fn subject_profile_reads_the_account(store: &Store) {
    let ole = account(store, "Ole@Example.org");
    let p = store.subject_profile(&ole).unwrap().unwrap();
    assert_eq!(p.sub, ole);
    assert_eq!(p.email, "ole@example.org");
    assert!(p.email_verified);
    assert_eq!(p.name.as_deref(), Some("Ole Mae"));
    assert_eq!(p.phone_number.as_deref(), Some("+1 404 555 0100"));
    assert_eq!(store.subject_profile("nobody").unwrap(), None);
}
