//! The client assertion store contract (`oauth::AssertionReplayStore`) and the columns of
//! `private_key_jwt` / `client_secret_jwt` clients: each suite function runs on a SQLite file
//! and on a PostgreSQL database, as in `contract.rs`. Races included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use gatehouse_store::Store;
use oauth::{AssertionReplayStore, Client, ClientId, ClientKeys, ClientStore};

const T0: i64 = 1_700_000_000;
const RACERS: usize = 50;

contract!(
    a_jti_is_fresh_once_per_client,
    expired_jtis_are_purged_and_go_with_their_client,
    fifty_parallel_uses_of_one_jti_have_one_winner,
    assertion_keys_are_stored_and_read_back,
);

fn client(keys: ClientKeys) -> Client {
    Client {
        id: ClientId::generate(),
        name: "Permits back end".into(),
        secret_hash: None,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["openid".into()],
        token_endpoint_auth_method: "private_key_jwt".into(),
        keys,
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec![],
        created_at: T0,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party: true,
        require_pushed_authorization_requests: false,
        backchannel_logout_uri: None,
    }
}

fn stored_client(store: &Store) -> Client {
    let c = client(ClientKeys { jwks_uri: Some("https://rp.example/jwks".into()), ..ClientKeys::default() });
    store.insert_client(&c).unwrap();
    c
}

fn a_jti_is_fresh_once_per_client(store: &Store) {
    let (a, b) = (stored_client(store), stored_client(store));
    assert!(store.record_assertion_jti(&a.id, "j-1", T0 + 120, T0).unwrap());
    assert!(!store.record_assertion_jti(&a.id, "j-1", T0 + 120, T0 + 1).unwrap());
    // Another client's jti space is its own.
    assert!(store.record_assertion_jti(&b.id, "j-1", T0 + 120, T0).unwrap());
    assert!(store.record_assertion_jti(&a.id, "j-2", T0 + 120, T0).unwrap());
}

fn expired_jtis_are_purged_and_go_with_their_client(store: &Store) {
    let a = stored_client(store);
    assert!(store.record_assertion_jti(&a.id, "old", T0 + 60, T0).unwrap());
    // Still remembered until it expires...
    assert!(!store.record_assertion_jti(&a.id, "old", T0 + 60, T0 + 60).unwrap());
    // ...then purged by the next record (an assertion that old is refused before this anyway).
    assert!(store.record_assertion_jti(&a.id, "old", T0 + 200, T0 + 61).unwrap());
    assert!(store.delete_client(&a.id).unwrap());
    let b = stored_client(store);
    assert!(store.record_assertion_jti(&b.id, "old", T0 + 200, T0).unwrap());
}

fn fifty_parallel_uses_of_one_jti_have_one_winner(store: &Store) {
    let a = stored_client(store);
    let start = Barrier::new(RACERS);
    let outcomes: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let (start, a) = (&start, &a);
                s.spawn(move || {
                    start.wait();
                    store.record_assertion_jti(&a.id, "raced", T0 + 120, T0).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|fresh| **fresh).count(), 1, "{outcomes:?}");
}

fn assertion_keys_are_stored_and_read_back(store: &Store) {
    let by_value = client(ClientKeys { jwks: Some(r#"{"keys":[]}"#.into()), ..ClientKeys::default() });
    store.insert_client(&by_value).unwrap();
    assert_eq!(store.find_client(&by_value.id).unwrap().unwrap(), by_value);
    let sealed = Client {
        token_endpoint_auth_method: "client_secret_jwt".into(),
        ..client(ClientKeys { sealed_secret: Some(vec![0, 1, 2, 255]), ..ClientKeys::default() })
    };
    store.insert_client(&sealed).unwrap();
    assert_eq!(store.find_client(&sealed.id).unwrap().unwrap(), sealed);
}
