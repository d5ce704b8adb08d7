//! The refresh token store contract (`oauth::{RefreshTokenStore, SubjectStore}`): each suite
//! function is given a fresh, migrated [`Store`] and runs on a SQLite file (`sqlite::…`) and on
//! a PostgreSQL database (`postgres::…`), as in `contract.rs`. Races included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use std::sync::Barrier;

use gatehouse_store::Store;
use identity::{
    AccountId, AccountStore, AuditStore, CreateAccount, Email, LockoutPolicy, LockoutStore, NewAccount,
    ProfileStore, RevocationStore,
};
use oauth::{
    Client, ClientStore, CodeStore, GrantId, GrantStore, Issuance, NewCode, NewRefreshToken, RefreshState,
    RefreshToken, RefreshTokenStore, Rotation, SubjectStanding, SubjectStore,
};
use tokens::TokenHash;

const T0: i64 = 1_700_000_000;
const RACERS: usize = 50;

contract!(
    a_refresh_token_rotates_once_then_is_already_used,
    fifty_parallel_rotations_of_one_refresh_token_have_one_winner,
    refresh_tokens_go_with_their_client,
    refresh_lifetimes_and_audiences_of_a_client_are_stored,
    subject_standing_tells_active_locked_reset_and_deleted_accounts_apart,
    refresh_state_reads_the_token_its_grant_and_its_account_together,
);

fn client() -> Client {
    common::portal_client(T0)
}

fn token(client: &Client, grant: &GrantId, secret: &str, now: i64) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: TokenHash::of(secret),
        grant_id: grant.clone(),
        client_id: client.id.clone(),
        subject: AccountId::generate().to_string(),
        scope: "openid offline_access".into(),
        session_id: "sid-1".into(),
        auth_time: T0 - 30,
        amr: vec!["pwd".into(), "otp".into()],
        family_issued_at: T0,
        created_at: now,
        expires_at: now + 3600,
        idp: Some("google".into()),
    }
}

fn stored_client(store: &Store) -> Client {
    let c = client();
    store.insert_client(&c).unwrap();
    c
}

/// The audit record of tokens issued from `token`'s family at `at`.
fn issued(token: &NewRefreshToken, grant_type: &'static str, at: i64) -> Issuance {
    Issuance {
        subject: token.subject.clone(),
        client_id: token.client_id.clone(),
        grant_type,
        ip: Some("203.0.113.7".into()),
        at,
    }
}

/// (grant type, client, ip, at) of the `token.issued` events filed under `subject`, oldest first.
fn filed(store: &Store, subject: &str) -> Vec<(String, String, String, i64)> {
    let account = AccountId::from_stored(subject.to_owned());
    let mut events: Vec<_> = store
        .list_events_for(&account, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "token.issued")
        .map(|e| {
            let grant = e.detail["grant_type"].as_str().unwrap_or_default().to_owned();
            (grant, e.client_id.unwrap_or_default(), e.ip.unwrap_or_default(), e.at)
        })
        .collect();
    events.sort_by_key(|e| e.3);
    events
}

fn a_refresh_token_rotates_once_then_is_already_used(store: &Store) {
    let c = stored_client(store);
    let grant = GrantId::generate();
    let first = token(&c, &grant, "first", T0);
    store.insert_refresh_token(&first, &issued(&first, "authorization_code", T0)).unwrap();
    assert_eq!(
        store.find_refresh_token(&first.token_hash).unwrap(),
        Some(RefreshToken { token: first.clone(), used_at: None })
    );
    let second = token(&c, &grant, "second", T0 + 10);
    let rotated = store.rotate_refresh_token(
        &first.token_hash,
        &second,
        T0 + 10,
        &issued(&first, "refresh_token", T0 + 10),
    );
    assert_eq!(rotated.unwrap(), Rotation::Rotated);
    assert_eq!(store.find_refresh_token(&first.token_hash).unwrap().unwrap().used_at, Some(T0 + 10));
    assert_eq!(
        store.find_refresh_token(&second.token_hash).unwrap(),
        Some(RefreshToken { token: second.clone(), used_at: None })
    );

    let third = token(&c, &grant, "third", T0 + 20);
    let again = issued(&first, "refresh_token", T0 + 20);
    assert_eq!(
        store.rotate_refresh_token(&first.token_hash, &third, T0 + 20, &again).unwrap(),
        Rotation::AlreadyUsed
    );
    assert_eq!(store.find_refresh_token(&third.token_hash).unwrap(), None, "a loser stores nothing");
    let never = TokenHash::of("never issued");
    assert_eq!(store.rotate_refresh_token(&never, &third, T0 + 20, &again).unwrap(), Rotation::Unknown);
    assert_eq!(store.find_refresh_token(&never).unwrap(), None);
    // The insert and the one winning rotation were filed with their writes; the losers filed nothing.
    let client = c.id.to_string();
    let ip = "203.0.113.7".to_owned();
    assert_eq!(
        filed(store, &first.subject),
        [
            ("authorization_code".to_owned(), client.clone(), ip.clone(), T0),
            ("refresh_token".to_owned(), client, ip, T0 + 10)
        ]
    );
}

fn fifty_parallel_rotations_of_one_refresh_token_have_one_winner(store: &Store) {
    let c = stored_client(store);
    let grant = GrantId::generate();
    let raced = token(&c, &grant, "raced", T0);
    store.insert_refresh_token(&raced, &issued(&raced, "authorization_code", T0)).unwrap();
    let again = issued(&raced, "refresh_token", T0 + 1);
    let successors: Vec<NewRefreshToken> =
        (0..RACERS).map(|i| token(&c, &grant, &format!("successor {i}"), T0 + 1)).collect();
    let start = Barrier::new(RACERS);
    let outcomes: Vec<Rotation> = std::thread::scope(|s| {
        let handles: Vec<_> = successors
            .iter()
            .map(|next| {
                let (start, raced, again) = (&start, &raced, &again);
                s.spawn(move || {
                    start.wait();
                    store.rotate_refresh_token(&raced.token_hash, next, T0 + 1, again).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = outcomes.iter().filter(|o| **o == Rotation::Rotated).count();
    let lost = outcomes.iter().filter(|o| **o == Rotation::AlreadyUsed).count();
    assert_eq!((won, lost), (1, RACERS - 1), "{outcomes:?}");
    let stored =
        successors.iter().filter(|n| store.find_refresh_token(&n.token_hash).unwrap().is_some()).count();
    assert_eq!(stored, 1, "exactly the winner's successor is stored");
    assert_eq!(filed(store, &raced.subject).len(), 2, "the insert and the winner are filed, no loser");
}

fn refresh_tokens_go_with_their_client(store: &Store) {
    let c = stored_client(store);
    let t = token(&c, &GrantId::generate(), "of a deleted client", T0);
    store.insert_refresh_token(&t, &issued(&t, "authorization_code", T0)).unwrap();
    assert!(store.delete_client(&c.id).unwrap());
    assert_eq!(store.find_refresh_token(&t.token_hash).unwrap(), None);
}

fn refresh_lifetimes_and_audiences_of_a_client_are_stored(store: &Store) {
    let machine = Client {
        grant_types: vec!["client_credentials".into()],
        redirect_uris: vec![],
        refresh_token_idle_ttl: Some(600),
        refresh_token_absolute_ttl: Some(86_400),
        audiences: vec!["https://permits.example/api".into(), "https://311.example/api".into()],
        ..client()
    };
    store.insert_client(&machine).unwrap();
    assert_eq!(store.find_client(&machine.id).unwrap(), Some(machine));
}

fn new_account(email: &str) -> NewAccount {
    NewAccount {
        id: AccountId::generate(),
        email: Email::parse(email).unwrap(),
        email_verified: true,
        name: None,
        given_name: None,
        family_name: None,
        phone_number: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_at: T0,
    }
}

fn subject_standing_tells_active_locked_reset_and_deleted_accounts_apart(store: &Store) {
    let CreateAccount::Created(ole) = store.create_account(&new_account("ole@example.org")).unwrap() else {
        panic!("email taken")
    };
    let sub = ole.id.as_str();
    assert_eq!(store.subject_standing(sub, T0).unwrap(), SubjectStanding::Active { tokens_revoked_at: None });

    let policy = LockoutPolicy { max_failures: 2, window_secs: 900, cooldown_secs: 600 };
    store.record_failed_sign_in(&ole.id, &policy, T0).unwrap();
    assert_eq!(store.subject_standing(sub, T0).unwrap(), SubjectStanding::Active { tokens_revoked_at: None });
    store.record_failed_sign_in(&ole.id, &policy, T0 + 1).unwrap();
    assert_eq!(store.subject_standing(sub, T0 + 2).unwrap(), SubjectStanding::Locked);
    // The cool-down ends the lock.
    assert_eq!(
        store.subject_standing(sub, T0 + 601).unwrap(),
        SubjectStanding::Active { tokens_revoked_at: None }
    );

    store.revoke_account_access(&ole.id, None, T0 + 700).unwrap();
    assert_eq!(
        store.subject_standing(sub, T0 + 701).unwrap(),
        SubjectStanding::Active { tokens_revoked_at: Some(T0 + 700) }
    );

    assert!(store.delete_account(&ole.id).unwrap());
    assert_eq!(store.subject_standing(sub, T0 + 800).unwrap(), SubjectStanding::Unknown);
    assert_eq!(store.subject_standing("no such account", T0).unwrap(), SubjectStanding::Unknown);
}

fn refresh_state_reads_the_token_its_grant_and_its_account_together(store: &Store) {
    let c = stored_client(store);
    let CreateAccount::Created(ada) = store.create_account(&new_account("ada@example.org")).unwrap() else {
        panic!("email taken")
    };
    let grant = GrantId::generate();
    // The code that started the grant asked for claims (OIDC Core §5.5).
    let claims = r#"{"id_token":{"email":null}}"#;
    let code = NewCode {
        code_hash: TokenHash::of("the code"),
        grant_id: grant.clone(),
        client_id: c.id.clone(),
        redirect_uri: "https://portal.example.org/cb".into(),
        subject: ada.id.to_string(),
        scope: "openid offline_access".into(),
        nonce: None,
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        auth_time: T0 - 30,
        amr: vec!["pwd".into()],
        session_id: "sid-1".into(),
        idp: None,
        claims: Some(claims.into()),
        created_at: T0,
        expires_at: T0 + 60,
    };
    store.insert_code(&code).unwrap();
    let t = NewRefreshToken { subject: ada.id.to_string(), ..token(&c, &grant, "stateful", T0) };
    store.insert_refresh_token(&t, &issued(&t, "authorization_code", T0)).unwrap();

    let state = |now| store.refresh_state(&t.token_hash, now).unwrap();
    assert_eq!(
        state(T0 + 1),
        Some(RefreshState {
            token: RefreshToken { token: t.clone(), used_at: None },
            grant_revoked: false,
            standing: SubjectStanding::Active { tokens_revoked_at: None },
            claims: Some(claims.into()),
        })
    );
    store.revoke_account_access(&ada.id, None, T0 + 2).unwrap();
    store.revoke_grant(&grant, T0 + 3).unwrap();
    let now = state(T0 + 4).unwrap();
    assert!(now.grant_revoked);
    assert_eq!(now.standing, SubjectStanding::Active { tokens_revoked_at: Some(T0 + 2) });
    assert!(store.delete_account(&ada.id).unwrap());
    assert_eq!(state(T0 + 5).map(|s| s.standing), Some(SubjectStanding::Unknown));
    assert_eq!(store.refresh_state(&TokenHash::of("never issued"), T0).unwrap(), None);
}
