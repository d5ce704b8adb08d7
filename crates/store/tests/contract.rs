//! The store contract: one suite of functions, each given a fresh, migrated [`Store`], run on a
//! SQLite file (`sqlite::…`) and on a PostgreSQL database (`postgres::…`). Races included.

#![expect(
    clippy::unwrap_used,
    reason = "a test binary: a failed unwrap is a failed test, and the suite functions are not #[test]s"
)]

#[macro_use]
mod common;

use common::Db;
use std::collections::HashSet;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use gatehouse_store::Store;
use identity::{
    AccountId, AccountStore, CodeKind, Consume, CreateAccount, Email, IdleTimeout, LockoutPolicy,
    LockoutState, LockoutStore, NewAccount, NewOneTimeCode, NewSession, OneTimeCodeStore,
    PasswordHistoryStore, Purpose, RevocationStore, SessionStore,
};
use mail::{Outbox, OutgoingMessage};
use oauth::{Client, ClientId, ClientStore, CodeStore, GrantId, GrantStore, NewCode, Redeem};
use tokens::{KeyStore, StoredKey, TokenHash};

const RACERS: usize = 50;

contract!(
    store_answers_ping,
    keys_are_listed_oldest_first_and_a_known_kid_is_left_alone,
    accounts_are_found_by_id_and_email_and_listed_by_email,
    a_second_account_with_a_taken_email_is_email_taken,
    sessions_are_found_until_they_expire_or_are_deleted,
    clients_are_listed_by_name_and_deleted_with_their_codes,
    a_code_is_fresh_once_then_already_used,
    revoking_a_grant_twice_is_fine,
    fifty_parallel_redemptions_of_one_code_have_one_winner,
    fifty_parallel_sign_ups_with_one_email_create_one_account,
    failed_sign_ins_count_lock_at_the_threshold_and_clear,
    forty_parallel_failed_sign_ins_count_ten_and_lock_once,
    a_new_code_voids_the_old_one_of_the_same_account_and_purpose_only,
    a_link_is_accepted_once_then_used_and_expired_and_unknown_are_told_apart,
    fifty_parallel_presentations_of_one_link_have_one_winner,
    fifty_parallel_replacements_of_one_code_leave_one_code,
    a_typed_code_counts_wrong_tries_and_accepts_the_right_code_once,
    twenty_parallel_wrong_guesses_count_exactly_max_tries,
    fifty_parallel_right_guesses_have_one_winner,
    password_history_is_newest_first_from_the_initial_hash_and_trimmed,
    revoking_account_access_keeps_one_session_and_stamps_tokens,
    outbox_messages_are_claimed_leased_sent_retried_and_failed,
    two_nodes_claiming_in_parallel_never_lease_one_message_twice,
    a_code_and_its_mail_are_stored_together_or_not_at_all,
);

fn new_account(email: &str) -> NewAccount {
    NewAccount {
        id: AccountId::generate(),
        email: Email::parse(email).unwrap(),
        email_verified: false,
        name: Some("Ole Mae".into()),
        given_name: Some("Ole".into()),
        family_name: None,
        phone_number: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_at: 1_700_000_000,
    }
}

fn created(outcome: CreateAccount) -> identity::Account {
    match outcome {
        CreateAccount::Created(account) => account,
        CreateAccount::EmailTaken => panic!("email reported taken"),
    }
}

fn client(name: &str) -> Client {
    Client {
        id: ClientId::generate(),
        name: name.into(),
        secret_hash: Some(TokenHash::of("client secret")),
        redirect_uris: vec!["https://portal.example/cb".into(), "https://portal.example/cb2".into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into(), "email".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        keys: Default::default(),
        id_token_signed_response_alg: "RS256".into(),
        extra_claims: vec![],
        created_at: 1_700_000_000,
        refresh_token_idle_ttl: None,
        refresh_token_absolute_ttl: None,
        audiences: vec![],
        first_party: true,
        require_pushed_authorization_requests: false,
    }
}

fn code(client: &Client, secret: &str) -> NewCode {
    NewCode {
        code_hash: TokenHash::of(secret),
        grant_id: GrantId::generate(),
        client_id: client.id.clone(),
        redirect_uri: client.redirect_uris[0].clone(),
        subject: AccountId::generate().to_string(),
        scope: "openid email".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        auth_time: 1_700_000_000,
        amr: vec!["pwd".into()],
        session_id: "sid-1".into(),
        idp: None,
        claims: None,
        created_at: 1_700_000_000,
        expires_at: 1_700_000_060,
    }
}

fn store_answers_ping(store: &Store) {
    store.ping().unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()));
    assert!(store.describe().starts_with(store.backend()));
}

fn keys_are_listed_oldest_first_and_a_known_kid_is_left_alone(store: &Store) {
    assert_eq!(store.list_keys().unwrap(), vec![]);
    let newer = StoredKey {
        kid: "b".into(),
        alg: "ES256".into(),
        sealed_private_key: vec![0, 1, 255],
        created_at: 20,
        activates_at: 20,
        retires_at: None,
    };
    let older = StoredKey {
        kid: "a".into(),
        alg: "RS256".into(),
        sealed_private_key: vec![9; 1200],
        created_at: 10,
        activates_at: 10,
        retires_at: Some(500),
    };
    store.insert_key(&newer).unwrap();
    store.insert_key(&older).unwrap();
    let impostor =
        StoredKey { alg: "RS256".into(), sealed_private_key: vec![7], created_at: 30, ..newer.clone() };
    store.insert_key(&impostor).unwrap();
    assert_eq!(store.list_keys().unwrap(), vec![older, newer]);
}

fn accounts_are_found_by_id_and_email_and_listed_by_email(store: &Store) {
    let zoe = created(store.create_account(&new_account("zoe@example.org")).unwrap());
    let new_ann = NewAccount {
        email_verified: true,
        phone_number: Some("+4712345678".into()),
        ..new_account("ann@example.org")
    };
    let ann = created(store.create_account(&new_ann).unwrap());
    assert_eq!(ann.id, new_ann.id);
    assert_eq!(ann.email.as_str(), "ann@example.org");
    assert!(ann.email_verified);
    assert_eq!(ann.phone_number.as_deref(), Some("+4712345678"));
    assert_eq!(ann.password_hash, new_ann.password_hash);
    assert_eq!((ann.created_at, ann.updated_at), (1_700_000_000, 1_700_000_000));

    assert_eq!(store.find_account(&zoe.id).unwrap(), Some(zoe.clone()));
    assert_eq!(store.find_account_by_email(&ann.email).unwrap(), Some(ann.clone()));
    assert_eq!(store.find_account(&AccountId::generate()).unwrap(), None);
    assert_eq!(store.find_account_by_email(&Email::parse("nobody@example.org").unwrap()).unwrap(), None);

    let bob = created(store.create_account(&new_account("bob@example.org")).unwrap());
    assert_eq!(store.list_accounts(10, 0).unwrap(), vec![ann.clone(), bob.clone(), zoe.clone()]);
    assert_eq!(store.list_accounts(1, 1).unwrap(), vec![bob]);
    assert_eq!(store.list_accounts(10, 3).unwrap(), vec![]);
}

fn a_second_account_with_a_taken_email_is_email_taken(store: &Store) {
    let first = created(store.create_account(&new_account("ole@example.org")).unwrap());
    // The domain normalises case before the store sees it.
    let again = new_account(" Ole@Example.ORG ");
    assert_eq!(store.create_account(&again).unwrap(), CreateAccount::EmailTaken);
    assert_eq!(store.find_account(&again.id).unwrap(), None);
    assert_eq!(store.list_accounts(10, 0).unwrap(), vec![first]);
}

fn sessions_are_found_until_they_expire_or_are_deleted(store: &Store) {
    let account = created(store.create_account(&new_account("ole@example.org")).unwrap());
    let session = NewSession {
        id: "sid-1".into(),
        token_hash: TokenHash::of("cookie secret"),
        account_id: account.id.clone(),
        auth_time: 1_000,
        amr: vec!["pwd".into(), "otp".into()],
        persistent: true,
        created_at: 1_000,
        expires_at: 2_000,
        idp: None,
    };
    store.create_session(&session).unwrap();
    let found = store.find_session(&session.token_hash, 1_999, &IdleTimeout::OFF).unwrap().unwrap();
    assert_eq!(found.id, "sid-1");
    assert_eq!(found.account_id, account.id);
    assert_eq!(found.amr, vec!["pwd".to_owned(), "otp".to_owned()]);
    assert!(found.persistent);
    assert_eq!((found.auth_time, found.created_at, found.expires_at), (1_000, 1_000, 2_000));

    assert_eq!(
        store.find_session(&session.token_hash, 2_000, &IdleTimeout::OFF).unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(store.find_session(&TokenHash::of("other secret"), 1_500, &IdleTimeout::OFF).unwrap(), None);
    store.delete_session(&session.token_hash).unwrap();
    assert_eq!(store.find_session(&session.token_hash, 1_500, &IdleTimeout::OFF).unwrap(), None);
    store.delete_session(&session.token_hash).unwrap();
}

fn clients_are_listed_by_name_and_deleted_with_their_codes(store: &Store) {
    let portal = client("Portal");
    let library = Client {
        secret_hash: None,
        token_endpoint_auth_method: "none".into(),
        keys: Default::default(),
        post_logout_redirect_uris: vec!["https://library.example/".into()],
        backchannel_logout_uri: Some("https://library.example/backchannel".into()),
        ..client("Library")
    };
    store.insert_client(&portal).unwrap();
    store.insert_client(&library).unwrap();
    assert_eq!(store.find_client(&portal.id).unwrap(), Some(portal.clone()));
    assert_eq!(store.find_client(&library.id).unwrap(), Some(library.clone()));
    assert_eq!(store.find_client(&ClientId::generate()).unwrap(), None);
    assert_eq!(store.list_clients().unwrap(), vec![library.clone(), portal.clone()]);

    let issued = code(&portal, "code of a deleted client");
    store.insert_code(&issued).unwrap();
    assert!(store.delete_client(&portal.id).unwrap());
    assert!(!store.delete_client(&portal.id).unwrap());
    assert_eq!(store.list_clients().unwrap(), vec![library]);
    assert_eq!(store.redeem_code(&issued.code_hash, 1_700_000_001).unwrap(), Redeem::Unknown);
}

fn a_code_is_fresh_once_then_already_used(store: &Store) {
    let portal = client("Portal");
    store.insert_client(&portal).unwrap();
    let issued = code(&portal, "the code");
    store.insert_code(&issued).unwrap();
    assert_eq!(store.redeem_code(&issued.code_hash, 1_700_000_001).unwrap(), Redeem::Fresh(issued.clone()));
    assert_eq!(
        store.redeem_code(&issued.code_hash, 1_700_000_002).unwrap(),
        Redeem::AlreadyUsed { grant_id: issued.grant_id.clone() }
    );
    assert_eq!(store.redeem_code(&TokenHash::of("never issued"), 1_700_000_003).unwrap(), Redeem::Unknown);
    let public = NewCode { nonce: None, amr: vec![], ..code(&portal, "another code") };
    store.insert_code(&public).unwrap();
    assert_eq!(store.redeem_code(&public.code_hash, 1_700_000_004).unwrap(), Redeem::Fresh(public));
}

fn revoking_a_grant_twice_is_fine(store: &Store) {
    let grant = GrantId::generate();
    assert!(!store.is_grant_revoked(&grant).unwrap());
    store.revoke_grant(&grant, 10).unwrap();
    store.revoke_grant(&grant, 20).unwrap();
    assert!(store.is_grant_revoked(&grant).unwrap());
    assert!(!store.is_grant_revoked(&GrantId::generate()).unwrap());
}

/// Runs `f` on [`RACERS`] threads released together; returns what each returned.
fn race<T: Send>(f: impl Fn() -> T + Sync) -> Vec<T> {
    race_n(RACERS, |_| f())
}

/// Runs `f(i)` for `i` in `0..n` on `n` threads released together; returns what each returned.
fn race_n<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let start = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (start, f) = (&start, &f);
                s.spawn(move || {
                    start.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn fifty_parallel_redemptions_of_one_code_have_one_winner(store: &Store) {
    let portal = client("Portal");
    store.insert_client(&portal).unwrap();
    let issued = code(&portal, "raced code");
    store.insert_code(&issued).unwrap();
    let outcomes = race(|| store.redeem_code(&issued.code_hash, 1_700_000_001).unwrap());
    let fresh = outcomes.iter().filter(|o| **o == Redeem::Fresh(issued.clone())).count();
    let used = Redeem::AlreadyUsed { grant_id: issued.grant_id.clone() };
    let already = outcomes.iter().filter(|o| **o == used).count();
    assert_eq!((fresh, already), (1, RACERS - 1), "{outcomes:?}");
}

fn fifty_parallel_sign_ups_with_one_email_create_one_account(store: &Store) {
    let outcomes = race(|| store.create_account(&new_account("popular@example.org")).unwrap());
    let winners: Vec<_> = outcomes.iter().filter(|o| matches!(o, CreateAccount::Created(_))).collect();
    let taken = outcomes.iter().filter(|o| **o == CreateAccount::EmailTaken).count();
    assert_eq!((winners.len(), taken), (1, RACERS - 1));
    assert_eq!(store.list_accounts(10, 0).unwrap().len(), 1);
}

const T0: i64 = 1_700_000_000;

fn account(store: &Store, email: &str) -> AccountId {
    created(store.create_account(&new_account(email)).unwrap()).id
}

fn secs(i: usize) -> i64 {
    i64::try_from(i).unwrap()
}

fn failed_sign_ins_count_lock_at_the_threshold_and_clear(store: &Store) {
    let ole = account(store, "ole@example.org");
    let ann = account(store, "ann@example.org");
    let policy = LockoutPolicy { max_failures: 3, window_secs: 900, cooldown_secs: 1800 };
    assert_eq!(store.lockout_state(&ole, T0).unwrap(), LockoutState::default());
    assert_eq!(
        store.record_failed_sign_in(&ole, &policy, T0).unwrap(),
        LockoutState { failures: 1, window_started_at: Some(T0), locked_until: None, operator_locked: false }
    );
    store.record_failed_sign_in(&ann, &policy, T0).unwrap();
    assert_eq!(store.record_failed_sign_in(&ole, &policy, T0 + 10).unwrap().failures, 2);
    let locked = store.record_failed_sign_in(&ole, &policy, T0 + 20).unwrap();
    assert_eq!(
        locked,
        LockoutState {
            failures: 3,
            window_started_at: Some(T0),
            locked_until: Some(T0 + 1820),
            operator_locked: false
        }
    );
    assert_eq!(store.record_failed_sign_in(&ole, &policy, T0 + 30).unwrap(), locked, "locked: no change");
    assert_eq!(store.lockout_state(&ole, T0 + 30).unwrap(), locked);
    assert_eq!(store.lockout_state(&ann, T0 + 30).unwrap().failures, 1);

    store.clear_lockout(&ole).unwrap();
    assert_eq!(store.lockout_state(&ole, T0 + 40).unwrap(), LockoutState::default());
    store.clear_lockout(&ole).unwrap();
    assert_eq!(
        store.record_failed_sign_in(&ole, &policy, T0 + 50).unwrap(),
        LockoutState {
            failures: 1,
            window_started_at: Some(T0 + 50),
            locked_until: None,
            operator_locked: false
        }
    );
    assert_eq!(store.lockout_state(&ann, T0 + 50).unwrap().failures, 1, "another account's state stays");
}

fn forty_parallel_failed_sign_ins_count_ten_and_lock_once(store: &Store) {
    let target = account(store, "target@example.org");
    let policy = LockoutPolicy::default();
    // Each thread fails at its own second, all within the window: a second lock would show as
    // a second `locked_until`.
    let results = race_n(40, |i| store.record_failed_sign_in(&target, &policy, T0 + secs(i)).unwrap());
    let mut counts: Vec<u32> = results.iter().map(|s| s.failures).collect();
    counts.sort_unstable();
    assert_eq!(counts[..10], (1..=10).collect::<Vec<_>>()[..], "{counts:?}");
    assert!(counts[10..].iter().all(|&c| c == 10), "{counts:?}");
    let locks: HashSet<i64> = results.iter().filter_map(|s| s.locked_until).collect();
    assert_eq!(locks.len(), 1, "locked more than once: {locks:?}");
    assert_eq!(results.iter().filter(|s| s.locked_until.is_none()).count(), 9);
    let stored = store.lockout_state(&target, T0 + 40).unwrap();
    assert_eq!(stored.failures, 10);
    assert_eq!(stored.locked_until, locks.into_iter().next());
    assert!(stored.is_locked(T0 + 40).is_some());
}

fn link(account: &AccountId, purpose: Purpose, secret: &str) -> NewOneTimeCode {
    NewOneTimeCode {
        account_id: account.clone(),
        purpose,
        kind: CodeKind::Link,
        code_hash: TokenHash::of(secret),
        created_at: T0,
        expires_at: T0 + 3600,
    }
}

fn typed(account: &AccountId, purpose: Purpose, digits: &str) -> NewOneTimeCode {
    NewOneTimeCode { kind: CodeKind::Typed, expires_at: T0 + 600, ..link(account, purpose, digits) }
}

fn accepted(account: &AccountId) -> Consume {
    Consume::Accepted { account_id: account.clone() }
}

fn a_new_code_voids_the_old_one_of_the_same_account_and_purpose_only(store: &Store) {
    let ole = account(store, "ole@example.org");
    let ann = account(store, "ann@example.org");
    let old = link(&ole, Purpose::PasswordReset, "old reset");
    let unlock = link(&ole, Purpose::Unlock, "ole unlock");
    let anns = link(&ann, Purpose::PasswordReset, "ann reset");
    for code in [&old, &unlock, &anns] {
        store.replace_code(code).unwrap();
    }
    let new = link(&ole, Purpose::PasswordReset, "new reset");
    store.replace_code(&new).unwrap();
    assert_eq!(store.consume_link(&old.code_hash, Purpose::PasswordReset, T0 + 1).unwrap(), Consume::Unknown);
    assert_eq!(store.consume_link(&unlock.code_hash, Purpose::Unlock, T0 + 1).unwrap(), accepted(&ole));
    assert_eq!(store.consume_link(&anns.code_hash, Purpose::PasswordReset, T0 + 1).unwrap(), accepted(&ann));
    assert_eq!(store.consume_link(&new.code_hash, Purpose::PasswordReset, T0 + 1).unwrap(), accepted(&ole));

    // A used code is replaced too, here by a typed code for the same purpose.
    let digits = typed(&ole, Purpose::PasswordReset, "123456");
    store.replace_code(&digits).unwrap();
    assert_eq!(store.peek_link(&new.code_hash, Purpose::PasswordReset, T0 + 2).unwrap(), Consume::Unknown);
    assert_eq!(
        store.attempt_typed_code(&ole, Purpose::PasswordReset, &digits.code_hash, T0 + 2, 5).unwrap(),
        accepted(&ole)
    );
}

fn a_link_is_accepted_once_then_used_and_expired_and_unknown_are_told_apart(store: &Store) {
    let ole = account(store, "ole@example.org");
    let reset = link(&ole, Purpose::PasswordReset, "reset");
    store.replace_code(&reset).unwrap();
    let hash = &reset.code_hash;
    assert_eq!(store.consume_link(hash, Purpose::Unlock, T0 + 1).unwrap(), Consume::Unknown, "wrong purpose");
    assert_eq!(store.peek_link(hash, Purpose::PasswordReset, T0 + 1).unwrap(), accepted(&ole));
    assert_eq!(store.consume_link(hash, Purpose::PasswordReset, T0 + 1).unwrap(), accepted(&ole));
    assert_eq!(store.consume_link(hash, Purpose::PasswordReset, T0 + 2).unwrap(), Consume::AlreadyUsed);
    assert_eq!(store.peek_link(hash, Purpose::PasswordReset, T0 + 2).unwrap(), Consume::AlreadyUsed);

    let verify = link(&ole, Purpose::VerifyEmail, "verify");
    store.replace_code(&verify).unwrap();
    let hash = &verify.code_hash;
    assert_eq!(store.consume_link(hash, Purpose::VerifyEmail, T0 + 3600).unwrap(), Consume::Expired);
    assert_eq!(store.consume_link(hash, Purpose::VerifyEmail, T0 + 3599).unwrap(), accepted(&ole));
    assert_eq!(store.consume_link(hash, Purpose::VerifyEmail, T0 + 4000).unwrap(), Consume::AlreadyUsed);

    let never = TokenHash::of("never issued");
    assert_eq!(store.consume_link(&never, Purpose::PasswordReset, T0).unwrap(), Consume::Unknown);
    let digits = typed(&ole, Purpose::SignInCode, "654321");
    store.replace_code(&digits).unwrap();
    assert_eq!(
        store.consume_link(&digits.code_hash, Purpose::SignInCode, T0 + 1).unwrap(),
        Consume::Unknown,
        "a typed code is no link"
    );
}

fn fifty_parallel_presentations_of_one_link_have_one_winner(store: &Store) {
    let ole = account(store, "ole@example.org");
    let reset = link(&ole, Purpose::PasswordReset, "raced reset");
    store.replace_code(&reset).unwrap();
    let outcomes = race(|| store.consume_link(&reset.code_hash, Purpose::PasswordReset, T0 + 1).unwrap());
    let won = outcomes.iter().filter(|o| **o == accepted(&ole)).count();
    let used = outcomes.iter().filter(|o| **o == Consume::AlreadyUsed).count();
    assert_eq!((won, used), (1, RACERS - 1), "{outcomes:?}");
}

fn fifty_parallel_replacements_of_one_code_leave_one_code(store: &Store) {
    let ole = account(store, "ole@example.org");
    store.replace_code(&link(&ole, Purpose::PasswordReset, "reset before")).unwrap();
    let codes: Vec<_> =
        (0..RACERS).map(|i| link(&ole, Purpose::PasswordReset, &format!("reset {i}"))).collect();
    race_n(RACERS, |i| store.replace_code(&codes[i]).unwrap());
    let live = codes
        .iter()
        .filter(|c| store.peek_link(&c.code_hash, Purpose::PasswordReset, T0 + 1).unwrap() == accepted(&ole))
        .count();
    assert_eq!(live, 1);
}

fn a_typed_code_counts_wrong_tries_and_accepts_the_right_code_once(store: &Store) {
    let ole = account(store, "ole@example.org");
    let wrong = TokenHash::of("000000");
    let attempt =
        |code: &TokenHash, purpose, now| store.attempt_typed_code(&ole, purpose, code, now, 5).unwrap();

    let digits = typed(&ole, Purpose::SignInCode, "111111");
    assert_eq!(attempt(&digits.code_hash, Purpose::SignInCode, T0), Consume::Unknown, "none issued");
    store.replace_code(&digits).unwrap();
    assert_eq!(attempt(&wrong, Purpose::SignInCode, T0 + 1), Consume::WrongCode);
    assert_eq!(attempt(&wrong, Purpose::SignInCode, T0 + 2), Consume::WrongCode);
    assert_eq!(attempt(&digits.code_hash, Purpose::PasswordReset, T0 + 3), Consume::Unknown, "other purpose");
    assert_eq!(attempt(&digits.code_hash, Purpose::SignInCode, T0 + 3), accepted(&ole));
    assert_eq!(attempt(&digits.code_hash, Purpose::SignInCode, T0 + 4), Consume::AlreadyUsed);
    assert_eq!(
        store
            .attempt_typed_code(&AccountId::generate(), Purpose::SignInCode, &digits.code_hash, T0 + 4, 5)
            .unwrap(),
        Consume::Unknown
    );

    let late = typed(&ole, Purpose::SignInCode, "222222");
    store.replace_code(&late).unwrap();
    assert_eq!(attempt(&late.code_hash, Purpose::SignInCode, T0 + 600), Consume::Expired);

    let spent = typed(&ole, Purpose::SignInCode, "333333");
    store.replace_code(&spent).unwrap();
    for _ in 0..4 {
        assert_eq!(attempt(&wrong, Purpose::SignInCode, T0 + 5), Consume::WrongCode);
    }
    assert_eq!(
        attempt(&wrong, Purpose::SignInCode, T0 + 5),
        Consume::TooManyTries,
        "the fifth try spends it"
    );
    assert_eq!(attempt(&spent.code_hash, Purpose::SignInCode, T0 + 6), Consume::TooManyTries);
}

fn twenty_parallel_wrong_guesses_count_exactly_max_tries(store: &Store) {
    let ole = account(store, "ole@example.org");
    let digits = typed(&ole, Purpose::SignInCode, "424242");
    store.replace_code(&digits).unwrap();
    let wrong = TokenHash::of("000000");
    let outcomes =
        race_n(20, |_| store.attempt_typed_code(&ole, Purpose::SignInCode, &wrong, T0 + 1, 5).unwrap());
    // Tries 1–4 are wrong with tries left, the 5th spends the code, the other 15 find it spent:
    // a lost update would show more than four WrongCode.
    let wrong_code = outcomes.iter().filter(|o| **o == Consume::WrongCode).count();
    let too_many = outcomes.iter().filter(|o| **o == Consume::TooManyTries).count();
    assert_eq!((wrong_code, too_many), (4, 16), "{outcomes:?}");
    assert_eq!(
        store.attempt_typed_code(&ole, Purpose::SignInCode, &digits.code_hash, T0 + 2, 5).unwrap(),
        Consume::TooManyTries,
        "no sixth evaluation, not even of the right code"
    );
}

fn fifty_parallel_right_guesses_have_one_winner(store: &Store) {
    let ole = account(store, "ole@example.org");
    let digits = typed(&ole, Purpose::SignInCode, "424242");
    store.replace_code(&digits).unwrap();
    let outcomes =
        race(|| store.attempt_typed_code(&ole, Purpose::SignInCode, &digits.code_hash, T0 + 1, 5).unwrap());
    let won = outcomes.iter().filter(|o| **o == accepted(&ole)).count();
    let used = outcomes.iter().filter(|o| **o == Consume::AlreadyUsed).count();
    assert_eq!((won, used), (1, RACERS - 1), "{outcomes:?}");
}

fn password_history_is_newest_first_from_the_initial_hash_and_trimmed(store: &Store) {
    let new_ole = new_account("ole@example.org");
    let initial = new_ole.password_hash.clone().unwrap();
    let ole = created(store.create_account(&new_ole).unwrap()).id;
    let ann = account(store, "ann@example.org");
    assert_eq!(store.password_history(&ole, 10).unwrap(), vec![initial.clone()]);

    // Set within the creation's second: the order still holds.
    store.change_password(&ole, "h1", 3, new_ole.created_at).unwrap();
    assert_eq!(store.password_history(&ole, 10).unwrap(), vec!["h1".to_owned(), initial.clone()]);
    store.change_password(&ole, "h2", 3, T0 + 10).unwrap();
    store.change_password(&ole, "h3", 3, T0 + 20).unwrap();
    let h = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    assert_eq!(store.password_history(&ole, 10).unwrap(), h(&["h3", "h2", "h1"]), "trimmed to 3");
    assert_eq!(store.password_history(&ole, 2).unwrap(), h(&["h3", "h2"]));
    let now_ole = store.find_account(&ole).unwrap().unwrap();
    assert_eq!((now_ole.password_hash.as_deref(), now_ole.updated_at), (Some("h3"), T0 + 20));
    assert_eq!(store.password_history(&ann, 10).unwrap(), vec![initial], "another account's stays");

    store.change_password(&ole, "h4", 0, T0 + 30).unwrap();
    assert_eq!(store.password_history(&ole, 10).unwrap(), Vec::<String>::new(), "keep 0 keeps none");

    let passwordless = NewAccount { password_hash: None, ..new_account("bob@example.org") };
    let bob = created(store.create_account(&passwordless).unwrap()).id;
    assert_eq!(store.password_history(&bob, 10).unwrap(), Vec::<String>::new());
    let nobody = AccountId::generate();
    assert_eq!(store.password_history(&nobody, 10).unwrap(), Vec::<String>::new());
    store.change_password(&nobody, "h", 3, T0).unwrap();
    assert_eq!(store.find_account(&nobody).unwrap(), None);
}

fn revoking_account_access_keeps_one_session_and_stamps_tokens(store: &Store) {
    let ole = account(store, "ole@example.org");
    let ann = account(store, "ann@example.org");
    let session = |id: &str, account: &AccountId| NewSession {
        id: id.into(),
        token_hash: TokenHash::of(id),
        account_id: account.clone(),
        auth_time: T0,
        amr: vec!["pwd".into()],
        persistent: false,
        created_at: T0,
        expires_at: T0 + 10_000,
        idp: None,
    };
    for (id, account) in [("sid-1", &ole), ("sid-2", &ole), ("sid-3", &ole), ("sid-4", &ann)] {
        store.create_session(&session(id, account)).unwrap();
    }
    let alive = |id: &str| store.find_session(&TokenHash::of(id), T0, &IdleTimeout::OFF).unwrap().is_some();
    assert_eq!(store.tokens_revoked_at(&ole).unwrap(), None);

    store.revoke_account_access(&ole, Some("sid-2"), T0 + 100).unwrap();
    assert_eq!(["sid-1", "sid-2", "sid-3", "sid-4"].map(alive), [false, true, false, true]);
    assert_eq!(store.tokens_revoked_at(&ole).unwrap(), Some(T0 + 100));
    assert_eq!(store.tokens_revoked_at(&ann).unwrap(), None);
    assert_eq!(store.find_account(&ole).unwrap().unwrap().updated_at, 1_700_000_000, "Account unchanged");

    store.revoke_account_access(&ole, None, T0 + 50).unwrap();
    assert!(!alive("sid-2") && alive("sid-4"));
    assert_eq!(store.tokens_revoked_at(&ole).unwrap(), Some(T0 + 100), "never moves back");
    store.revoke_account_access(&ole, None, T0 + 200).unwrap();
    assert_eq!(store.tokens_revoked_at(&ole).unwrap(), Some(T0 + 200));

    let nobody = AccountId::generate();
    store.revoke_account_access(&nobody, None, T0).unwrap();
    assert_eq!(store.tokens_revoked_at(&nobody).unwrap(), None);
}

fn message(to: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: to.into(),
        subject: "Your sign-in code".into(),
        text: "Your code is 123 456. It is valid for 10 minutes.".into(),
        html: "<p>Your code is <b>123 456</b>.</p>".into(),
    }
}

fn claimed_ids(store: &Store, now: i64, limit: usize) -> Vec<String> {
    store.claim_due(now, 120, limit).unwrap().into_iter().map(|m| m.id).collect()
}

fn status(store: &Store, id: &str) -> (String, u32) {
    store.outbox_status(id).unwrap().unwrap()
}

fn outbox_messages_are_claimed_leased_sent_retried_and_failed(store: &Store) {
    let id = store.enqueue(&message("ole@example.org"), T0).unwrap();
    assert_eq!(status(store, &id), ("pending".into(), 0));
    assert_eq!(store.outbox_status("no such id").unwrap(), None);
    assert_eq!(claimed_ids(store, T0 - 1, 10), Vec::<String>::new(), "not due yet");

    let claimed = store.claim_due(T0, 120, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].id.as_str(), &claimed[0].message, claimed[0].attempts),
        (id.as_str(), &message("ole@example.org"), 0)
    );
    assert_eq!(status(store, &id), ("sending".into(), 0));
    assert_eq!(claimed_ids(store, T0 + 119, 10), Vec::<String>::new(), "leased");

    store.mark_retry(&id, T0 + 500, "421 try again later").unwrap();
    assert_eq!(status(store, &id), ("pending".into(), 1));
    assert_eq!(claimed_ids(store, T0 + 499, 10), Vec::<String>::new(), "retried later");
    let again = store.claim_due(T0 + 500, 120, 10).unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store.mark_failed(&id, "550 no such user", T0 + 501).unwrap();
    assert_eq!(status(store, &id), ("failed".into(), 2));
    assert_eq!(claimed_ids(store, T0 + 100_000, 10), Vec::<String>::new(), "failed stays failed");

    let sent = store.enqueue(&message("ann@example.org"), T0).unwrap();
    assert_eq!(claimed_ids(store, T0, 10), vec![sent.clone()]);
    store.mark_sent(&sent, T0 + 1).unwrap();
    assert_eq!(status(store, &sent), ("sent".into(), 0));
    assert_eq!(claimed_ids(store, T0 + 100_000, 10), Vec::<String>::new(), "sent stays sent");

    let batch: Vec<String> =
        (0..3).map(|i| store.enqueue(&message("x@example.org"), T0 + i).unwrap()).collect();
    assert_eq!(claimed_ids(store, T0 + 10, 2), batch[..2].to_vec(), "oldest first, at most limit");
    assert_eq!(claimed_ids(store, T0 + 10, 2), batch[2..].to_vec());

    // Its node died before recording it sent, so before the relay could accept it: when the
    // lease ends it is pending again, and claimed again.
    let orphan = store.enqueue(&message("bo@example.org"), T0).unwrap();
    assert_eq!(claimed_ids(store, T0, 10), vec![orphan.clone()]);
    assert_eq!(claimed_ids(store, T0 + 119, 10), Vec::<String>::new(), "leased");
    assert_eq!(claimed_ids(store, T0 + 120, 10), vec![orphan.clone()], "the lease ended: sent again");
    assert_eq!(status(store, &orphan), ("sending".into(), 0));
    // Handed over, never answered: in doubt, never claimed again.
    store.mark_in_doubt(&orphan, "no answer to the end of the message").unwrap();
    assert_eq!(status(store, &orphan), ("in_doubt".into(), 1));
    // (The batch above, abandoned too, comes back; the message in doubt does not.)
    assert_eq!(claimed_ids(store, T0 + 100_000, 10), batch, "in doubt stays in doubt");
    let counts = store.outbox_counts().unwrap();
    assert!(counts.contains(&("in_doubt".to_owned(), 1)), "{counts:?}");
}

fn two_nodes_claiming_in_parallel_never_lease_one_message_twice(db: &Db) {
    const MESSAGES: usize = 60;
    for i in 0..MESSAGES {
        db.enqueue(&message(&format!("citizen{i}@example.org")), T0).unwrap();
    }
    let other = db.another_node();
    let nodes = [&db.store, &other];
    // Four workers per node, each claiming batches of three until nothing is left.
    let claimed: Vec<Vec<String>> = race_n(8, |i| {
        let mut mine = Vec::new();
        loop {
            let batch = claimed_ids(nodes[i % 2], T0, 3);
            if batch.is_empty() {
                return mine;
            }
            mine.extend(batch);
        }
    });
    let all: Vec<&String> = claimed.iter().flatten().collect();
    let distinct: HashSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a message was leased twice: {claimed:?}");
    assert_eq!(distinct.len(), MESSAGES);
}

fn a_code_and_its_mail_are_stored_together_or_not_at_all(store: &Store) {
    let ole = account(store, "ole@example.org");
    let reset = link(&ole, Purpose::PasswordReset, "mailed reset");
    let id = store.issue_code_with_mail(&reset, &message("ole@example.org"), T0).unwrap();
    assert_eq!(status(store, &id), ("pending".into(), 0));
    assert_eq!(store.peek_link(&reset.code_hash, Purpose::PasswordReset, T0 + 1).unwrap(), accepted(&ole));
    let claimed = store.claim_due(T0, 120, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((&claimed[0].id, &claimed[0].message), (&id, &message("ole@example.org")));
    store.mark_sent(&id, T0 + 1).unwrap();

    // The outbox row is written first; the code's insert then fails its foreign key (no such
    // account), and the transaction leaves neither.
    let ghost = link(&AccountId::generate(), Purpose::PasswordReset, "ghost reset");
    assert!(store.issue_code_with_mail(&ghost, &message("ghost@example.org"), T0).is_err());
    assert_eq!(store.peek_link(&ghost.code_hash, Purpose::PasswordReset, T0 + 1).unwrap(), Consume::Unknown);
    assert_eq!(claimed_ids(store, T0 + 100_000, 10), Vec::<String>::new(), "no outbox row remains");

    // Issuing again replaces the code and queues another message.
    let second = link(&ole, Purpose::PasswordReset, "second reset");
    let second_id = store.issue_code_with_mail(&second, &message("ole@example.org"), T0 + 5).unwrap();
    assert_ne!(second_id, id);
    assert_eq!(store.peek_link(&reset.code_hash, Purpose::PasswordReset, T0 + 6).unwrap(), Consume::Unknown);
    assert_eq!(
        store.consume_link(&second.code_hash, Purpose::PasswordReset, T0 + 6).unwrap(),
        accepted(&ole)
    );
    assert_eq!(claimed_ids(store, T0 + 5, 10), vec![second_id]);
}

#[test]
fn both_backends_have_the_same_migrations_in_the_same_order() {
    let names = |backend: &str| {
        let dir = format!("{}/../../migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

#[test]
fn an_unsupported_scheme_names_the_supported_ones() {
    let message = Store::connect("mysql://x", 1).unwrap_err().to_string();
    assert!(message.contains("mysql://x"), "{message}");
    assert!(message.contains("sqlite://") && message.contains("postgres://"), "{message}");
}

#[test]
fn an_unreachable_postgres_fails_fast_with_the_cause() {
    // Port 1 on loopback: nothing listens there, so the connect is refused at once.
    let started = Instant::now();
    let message =
        Store::connect("postgres://gatehouse:hunter2@127.0.0.1:1/gatehouse", 2).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(
        message.starts_with("cannot open database postgres://gatehouse:***@127.0.0.1:1/gatehouse:"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("hunter2") && !message.contains('\n'), "{message}");
}
