//! Revocation (RFC 7009) and introspection (RFC 7662) of tokens issued through `grant`.

use serde_json::json;

use super::*;
use crate::error::ErrorCode;
use crate::revoke::{Revocation, revoke};
use crate::store::{ClientId, SubjectStanding};
use crate::testgrant::{ISS, NOW, exchange, keys, stored_code, token_params};
use crate::testutil::{MemStore, client, public_client};
use crate::token::TokenParams;

fn refresher() -> Client {
    let mut c = client();
    c.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    c.scopes.push("offline_access".into());
    c
}

/// (access token, refresh token) of a fresh sign-in.
fn tokens_of(store: &MemStore, c: &Client) -> (String, String) {
    let (code, _) = stored_code(store, c, "openid email offline_access", NOW);
    let r = exchange(store, c, &token_params(&code), NOW).unwrap();
    (r.access_token, r.refresh_token.unwrap())
}

fn params(token: &str, hint: Option<&str>) -> TokenHintParams {
    TokenHintParams { token: Some(token.into()), token_type_hint: hint.map(Into::into), ..Default::default() }
}

fn ask(store: &MemStore, c: &Client, token: &str, now: i64) -> Introspection {
    introspect(store, keys(), ISS, c, &params(token, None), now).unwrap()
}

fn other_client() -> Client {
    Client { id: ClientId::from_stored("client-2".into()), ..refresher() }
}

#[test]
fn an_access_token_introspects_with_its_claims() {
    let store = MemStore::default();
    let c = refresher();
    let (access, _) = tokens_of(&store, &c);
    let json = serde_json::to_value(ask(&store, &c, &access, NOW + 1)).unwrap();
    assert_eq!(json["active"], true);
    assert_eq!(
        (json["scope"].as_str(), json["client_id"].as_str()),
        (Some("openid email offline_access"), Some("client-1"))
    );
    assert_eq!(
        (json["sub"].as_str(), json["iss"].as_str(), json["aud"].as_str()),
        (Some("acct-1"), Some(ISS), Some(ISS))
    );
    assert_eq!((json["exp"].as_i64(), json["iat"].as_i64()), (Some(NOW + 600), Some(NOW)));
    assert_eq!(json["token_type"], "Bearer");
    assert!(json["jti"].is_string());
}

#[test]
fn expired_garbage_foreign_and_id_tokens_are_just_inactive() {
    let store = MemStore::default();
    let c = refresher();
    let (access, refresh) = tokens_of(&store, &c);
    let inactive = json!({"active": false});
    let as_json = |i: Introspection| serde_json::to_value(i).unwrap();
    assert_eq!(as_json(ask(&store, &c, &access, NOW + 600)), inactive, "expired");
    assert_eq!(as_json(ask(&store, &c, "garbage", NOW)), inactive);
    assert_eq!(as_json(ask(&store, &c, "a.b.c", NOW)), inactive);
    // RFC 7662 §2.2: another client learns nothing about the token.
    assert_eq!(as_json(ask(&store, &other_client(), &access, NOW)), inactive);
    assert_eq!(as_json(ask(&store, &other_client(), &refresh, NOW)), inactive);
    // An API registered for the token's audience may introspect it.
    let api = Client { audiences: vec![ISS.into()], ..other_client() };
    assert!(ask(&store, &api, &access, NOW).active);
    // A public client may not introspect at all.
    let e = introspect(&store, keys(), ISS, &public_client(), &params(&access, None), NOW).unwrap_err();
    assert!(matches!(e, TokenGrantError::OAuth(e) if e.code == ErrorCode::InvalidClient));
    let e = introspect(&store, keys(), ISS, &c, &TokenHintParams::default(), NOW).unwrap_err();
    assert!(matches!(e, TokenGrantError::OAuth(e) if e.code == ErrorCode::InvalidRequest));
}

#[test]
fn a_refresh_token_is_active_until_used_or_expired() {
    let store = MemStore::default();
    let c = refresher();
    let (_, refresh) = tokens_of(&store, &c);
    let i = introspect(&store, keys(), ISS, &c, &params(&refresh, Some("refresh_token")), NOW).unwrap();
    assert!(i.active);
    assert_eq!((i.sub.as_deref(), i.exp, i.token_type), (Some("acct-1"), Some(NOW + 3600), None));
    // The hint is only a hint.
    assert!(
        introspect(&store, keys(), ISS, &c, &params(&refresh, Some("access_token")), NOW).unwrap().active
    );
    assert!(!ask(&store, &c, &refresh, NOW + 3600).active, "idle lifetime over");
    let p = TokenParams {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(refresh.clone()),
        ..Default::default()
    };
    exchange(&store, &c, &p, NOW + 1).unwrap();
    assert!(!ask(&store, &c, &refresh, NOW + 2).active, "rotated away");
}

#[test]
fn tokens_of_a_deleted_or_reset_account_are_inactive() {
    let store = MemStore::default();
    let c = refresher();
    let (access, refresh) = tokens_of(&store, &c);
    store
        .subjects
        .lock()
        .unwrap()
        .insert("acct-1".into(), SubjectStanding::Active { tokens_revoked_at: Some(NOW) });
    assert!(!ask(&store, &c, &access, NOW + 1).active);
    assert!(!ask(&store, &c, &refresh, NOW + 1).active);
    store.subjects.lock().unwrap().insert("acct-1".into(), SubjectStanding::Unknown);
    let (access, _) = tokens_of(&store, &c);
    assert!(!ask(&store, &c, &access, NOW + 1).active);
}

#[test]
fn revoking_an_access_token_revokes_its_grant_and_refresh_token() {
    let store = MemStore::default();
    let c = refresher();
    let (access, refresh) = tokens_of(&store, &c);
    assert_eq!(
        revoke(&store, keys(), ISS, &c, &params(&access, None), NOW + 1).unwrap(),
        Revocation::Revoked
    );
    assert!(!ask(&store, &c, &access, NOW + 2).active);
    assert!(!ask(&store, &c, &refresh, NOW + 2).active);
    assert!(crate::validate_bearer(&store, keys(), ISS, &access, NOW + 2).is_err());
}

#[test]
fn revoking_a_refresh_token_revokes_the_family_and_its_access_tokens() {
    let store = MemStore::default();
    let c = refresher();
    let (access, refresh) = tokens_of(&store, &c);
    let r = revoke(&store, keys(), ISS, &c, &params(&refresh, Some("refresh_token")), NOW + 1).unwrap();
    assert_eq!(r, Revocation::Revoked);
    assert!(!ask(&store, &c, &refresh, NOW + 2).active);
    assert!(!ask(&store, &c, &access, NOW + 2).active);
}

#[test]
fn another_clients_unknown_and_id_tokens_are_not_revoked() {
    let store = MemStore::default();
    let c = refresher();
    let (access, refresh) = tokens_of(&store, &c);
    for token in [&access, &refresh] {
        let r = revoke(&store, keys(), ISS, &other_client(), &params(token, None), NOW + 1).unwrap();
        assert_eq!(r, Revocation::NothingToDo);
        assert!(ask(&store, &c, token, NOW + 2).active);
    }
    let r = revoke(&store, keys(), ISS, &c, &params("never issued", Some("refresh_token")), NOW).unwrap();
    assert_eq!(r, Revocation::NothingToDo);
    let e = revoke(&store, keys(), ISS, &c, &TokenHintParams::default(), NOW).unwrap_err();
    assert!(matches!(e, TokenGrantError::OAuth(e) if e.code == ErrorCode::InvalidRequest));

    let (code, _) = stored_code(&store, &c, "openid", NOW);
    let id_token = exchange(&store, &c, &token_params(&code), NOW).unwrap().id_token.unwrap();
    let e = revoke(&store, keys(), ISS, &c, &params(&id_token, None), NOW + 1).unwrap_err();
    assert!(matches!(e, TokenGrantError::OAuth(e) if e.code == ErrorCode::UnsupportedTokenType));
}

#[test]
fn a_public_client_revokes_its_own_refresh_token() {
    let store = MemStore::default();
    let mut c = public_client();
    c.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    c.scopes.push("offline_access".into());
    let (_, refresh) = tokens_of(&store, &c);
    assert_eq!(revoke(&store, keys(), ISS, &c, &params(&refresh, None), NOW).unwrap(), Revocation::Revoked);
    assert!(!ask(&store, &refresher(), &refresh, NOW).active);
}
