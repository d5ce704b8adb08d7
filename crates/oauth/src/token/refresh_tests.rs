//! The refresh_token and client_credentials grants, through `grant` as the endpoint calls it.

use tokens::{AccessTokenClaims, Audience, IdTokenClaims};

use super::*;
use crate::store::ClientId;
use crate::store::{GrantId, SubjectStanding};
use crate::testgrant::{IP, ISS, NOW, exchange, keys, oauth_code, stored_code, token_params};
use crate::testutil::{MemStore, client, public_client};

/// A confidential client allowed to refresh, with offline_access among its scopes.
fn refresher() -> Client {
    let mut c = client();
    c.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    c.scopes.push("offline_access".into());
    c
}

/// Signs in (a stored code) and redeems it at `NOW`; returns the response and the grant.
fn signed_in(store: &MemStore, c: &Client, scope: &str) -> (TokenResponse, GrantId) {
    let (code, grant_id) = stored_code(store, c, scope, NOW);
    (exchange(store, c, &token_params(&code), NOW).unwrap(), grant_id)
}

fn refresh_params(token: &str, scope: Option<&str>) -> TokenParams {
    TokenParams {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(token.into()),
        scope: scope.map(Into::into),
        ..Default::default()
    }
}

fn refresh(store: &MemStore, c: &Client, token: &str, now: i64) -> Result<TokenResponse, TokenGrantError> {
    exchange(store, c, &refresh_params(token, None), now)
}

#[test]
fn a_refresh_token_needs_offline_access_and_the_refresh_grant() {
    let store = MemStore::default();
    let (r, _) = signed_in(&store, &refresher(), "openid email offline_access");
    assert!(r.refresh_token.is_some());
    assert!(serde_json::to_value(&r).unwrap()["refresh_token"].is_string());
    let (r, _) = signed_in(&store, &refresher(), "openid email");
    assert!(r.refresh_token.is_none());
    let mut code_only = refresher();
    code_only.grant_types = vec!["authorization_code".into()];
    let (r, _) = signed_in(&store, &code_only, "openid offline_access");
    assert!(r.refresh_token.is_none());
}

#[test]
fn refresh_rotates_and_keeps_the_grant_and_the_original_auth_time() {
    let store = MemStore::default();
    let c = refresher();
    let (first, grant_id) = signed_in(&store, &c, "openid email offline_access");
    let old = first.refresh_token.unwrap();
    let r = refresh(&store, &c, &old, NOW + 100).unwrap();
    let new = r.refresh_token.clone().unwrap();
    assert_ne!(new, old);
    assert_eq!(r.scope, "openid email offline_access");

    let at: AccessTokenClaims = keys().verify(&r.access_token, "at+jwt", ISS, NOW + 100).unwrap();
    assert_eq!((at.gid.as_str(), at.iat, at.auth_time), (grant_id.as_str(), NOW + 100, Some(NOW - 30)));
    // OIDC Core §12.2: same sub, aud, auth_time; a new iat; no nonce.
    let id: IdTokenClaims = keys().verify(r.id_token.as_deref().unwrap(), "JWT", ISS, NOW + 100).unwrap();
    assert_eq!((id.sub.as_str(), id.aud.as_str()), ("acct-1", "client-1"));
    assert_eq!((id.iat, id.auth_time, id.nonce), (NOW + 100, NOW - 30, None));
    assert_eq!((id.amr, id.sid.as_str()), (vec!["pwd".to_owned(), "mfa".to_owned()], "sid-1"));

    // The new one works in turn.
    assert!(refresh(&store, &c, &new, NOW + 200).is_ok());
}

/// (grant type, subject, client, ip, at) of every issuance the store filed.
fn filed(store: &MemStore) -> Vec<(&'static str, String, String, Option<String>, i64)> {
    let issued = store.issued.lock().unwrap();
    issued
        .iter()
        .map(|i| (i.grant_type, i.subject.clone(), i.client_id.to_string(), i.ip.clone(), i.at))
        .collect()
}

#[test]
fn each_issuance_to_an_account_is_filed_once_and_a_refused_refresh_files_nothing() {
    let store = MemStore::default();
    let c = refresher();
    let issued = |grant, at| (grant, "acct-1".to_owned(), "client-1".to_owned(), Some(IP.to_owned()), at);
    // A code exchange without a refresh token, then one with (filed with the token's insert).
    signed_in(&store, &c, "openid email");
    let (first, _) = signed_in(&store, &c, "openid offline_access");
    assert_eq!(filed(&store), [issued("authorization_code", NOW), issued("authorization_code", NOW)]);

    let old = first.refresh_token.unwrap();
    let next = refresh(&store, &c, &old, NOW + 10).unwrap().refresh_token.unwrap();
    assert_eq!(filed(&store).len(), 3);
    assert_eq!(filed(&store)[2], issued("refresh_token", NOW + 10));

    // Refused: unknown, another client's, reused (which revokes the family), then revoked.
    assert!(refresh(&store, &c, "never issued", NOW + 11).is_err());
    let mut other = refresher();
    other.id = ClientId::from_stored("client-2".into());
    assert!(refresh(&store, &other, &next, NOW + 12).is_err());
    assert!(refresh(&store, &c, &old, NOW + 13).is_err());
    assert!(refresh(&store, &c, &next, NOW + 14).is_err());
    // Machine tokens are the client's own: nothing filed.
    let mut machine = refresher();
    machine.grant_types.push("client_credentials".into());
    machine.scopes = vec!["reports".into()];
    assert!(exchange(&store, &machine, &credentials(None, None), NOW + 15).is_ok());
    assert_eq!(filed(&store).len(), 3);
}

#[test]
fn a_reused_refresh_token_revokes_its_family_and_its_access_tokens() {
    let store = MemStore::default();
    let c = refresher();
    let (first, grant_id) = signed_in(&store, &c, "openid offline_access");
    let old = first.refresh_token.unwrap();
    let r = refresh(&store, &c, &old, NOW + 10).unwrap();
    assert!(validate_bearer(&store, keys(), ISS, &r.access_token, NOW + 11).is_ok());

    assert_eq!(oauth_code(refresh(&store, &c, &old, NOW + 20)), ErrorCode::InvalidGrant);
    assert!(store.is_grant_revoked(&grant_id).unwrap());
    let newest = r.refresh_token.unwrap();
    assert_eq!(oauth_code(refresh(&store, &c, &newest, NOW + 30)), ErrorCode::InvalidGrant);
    assert!(validate_bearer(&store, keys(), ISS, &r.access_token, NOW + 31).is_err());
    assert!(validate_bearer(&store, keys(), ISS, &first.access_token, NOW + 31).is_err());
}

#[test]
fn scope_may_narrow_for_the_access_token_but_never_widen() {
    let store = MemStore::default();
    let c = refresher();
    let (first, _) = signed_in(&store, &c, "openid email offline_access");
    let token = first.refresh_token.unwrap();

    for wider in ["openid profile", "openid email offline_access phone"] {
        let r = exchange(&store, &c, &refresh_params(&token, Some(wider)), NOW + 1);
        assert_eq!(oauth_code(r), ErrorCode::InvalidScope, "{wider}");
    }
    // A refused widening does not spend the token.
    let r = exchange(&store, &c, &refresh_params(&token, Some("email")), NOW + 2).unwrap();
    assert_eq!(r.scope, "email");
    assert!(r.id_token.is_none(), "no ID token without openid");
    // RFC 6749 §6: the rotated refresh token keeps the original scope.
    let again = refresh(&store, &c, r.refresh_token.as_deref().unwrap(), NOW + 3).unwrap();
    assert_eq!(again.scope, "openid email offline_access");
}

#[test]
fn idle_and_absolute_lifetimes_end_the_family() {
    let store = MemStore::default();
    let c = refresher(); // settings: idle 3600 s, absolute 36000 s
    let (first, _) = signed_in(&store, &c, "openid offline_access");
    assert_eq!(
        oauth_code(refresh(&store, &c, first.refresh_token.as_deref().unwrap(), NOW + 3600)),
        ErrorCode::InvalidGrant
    );

    let (first, _) = signed_in(&store, &c, "openid offline_access");
    let mut token = first.refresh_token.unwrap();
    let mut now = NOW;
    // Used every 59 minutes, it slides until the absolute lifetime.
    while now + 3540 < NOW + 36_000 {
        now += 3540;
        token = refresh(&store, &c, &token, now).unwrap().refresh_token.unwrap();
    }
    assert_eq!(oauth_code(refresh(&store, &c, &token, NOW + 36_000)), ErrorCode::InvalidGrant);
}

#[test]
fn a_client_may_shorten_its_refresh_lifetimes() {
    let store = MemStore::default();
    let mut c = refresher();
    c.refresh_token_idle_ttl = Some(60);
    let (first, _) = signed_in(&store, &c, "openid offline_access");
    let token = first.refresh_token.unwrap();
    assert_eq!(oauth_code(refresh(&store, &c, &token, NOW + 60)), ErrorCode::InvalidGrant);
    let (first, _) = signed_in(&store, &c, "openid offline_access");
    assert!(refresh(&store, &c, first.refresh_token.as_deref().unwrap(), NOW + 59).is_ok());
}

#[test]
fn another_clients_refresh_token_is_refused_and_left_usable() {
    let store = MemStore::default();
    let c = refresher();
    let (first, grant_id) = signed_in(&store, &c, "openid offline_access");
    let token = first.refresh_token.unwrap();
    let mut other = refresher();
    other.id = crate::ClientId::from_stored("client-2".into());
    assert_eq!(oauth_code(refresh(&store, &other, &token, NOW + 1)), ErrorCode::InvalidGrant);
    assert!(!store.is_grant_revoked(&grant_id).unwrap());
    assert!(refresh(&store, &c, &token, NOW + 2).is_ok());
    assert_eq!(oauth_code(refresh(&store, &c, "never issued", NOW + 3)), ErrorCode::InvalidGrant);
    let mut p = refresh_params("", None);
    p.refresh_token = None;
    assert_eq!(oauth_code(exchange(&store, &c, &p, NOW + 4)), ErrorCode::InvalidRequest);
}

#[test]
fn a_revoked_grant_or_a_replayed_code_ends_refresh() {
    let store = MemStore::default();
    let c = refresher();
    let (code, grant_id) = stored_code(&store, &c, "openid offline_access", NOW);
    let r = exchange(&store, &c, &token_params(&code), NOW).unwrap();
    // RFC 6749 §4.1.2: the replayed code revokes what it issued, the refresh token included.
    assert_eq!(oauth_code(exchange(&store, &c, &token_params(&code), NOW + 1)), ErrorCode::InvalidGrant);
    assert!(store.is_grant_revoked(&grant_id).unwrap());
    assert_eq!(
        oauth_code(refresh(&store, &c, r.refresh_token.as_deref().unwrap(), NOW + 2)),
        ErrorCode::InvalidGrant
    );
}

#[test]
fn a_locked_account_waits_a_deleted_or_reset_one_loses_the_family() {
    let store = MemStore::default();
    let c = refresher();
    let standing = |s: SubjectStanding| {
        store.subjects.lock().unwrap().insert("acct-1".into(), s);
    };
    let (first, grant_id) = signed_in(&store, &c, "openid offline_access");
    let token = first.refresh_token.unwrap();

    standing(SubjectStanding::Locked);
    assert_eq!(oauth_code(refresh(&store, &c, &token, NOW + 1)), ErrorCode::InvalidGrant);
    standing(SubjectStanding::Active { tokens_revoked_at: Some(NOW - 1) });
    let token = refresh(&store, &c, &token, NOW + 2).unwrap().refresh_token.unwrap();

    // A password reset after the family began.
    standing(SubjectStanding::Active { tokens_revoked_at: Some(NOW + 3) });
    assert_eq!(oauth_code(refresh(&store, &c, &token, NOW + 4)), ErrorCode::InvalidGrant);
    assert!(store.is_grant_revoked(&grant_id).unwrap());

    standing(SubjectStanding::Unknown);
    let (first, grant_id) = signed_in(&store, &c, "openid offline_access");
    assert_eq!(
        oauth_code(refresh(&store, &c, first.refresh_token.as_deref().unwrap(), NOW + 5)),
        ErrorCode::InvalidGrant
    );
    assert!(store.is_grant_revoked(&grant_id).unwrap());
}

fn credentials(scope: Option<&str>, resource: Option<&str>) -> TokenParams {
    TokenParams {
        grant_type: Some("client_credentials".into()),
        scope: scope.map(Into::into),
        resource: resource.map(Into::into),
        ..Default::default()
    }
}

#[test]
fn client_credentials_issue_an_access_token_for_the_client_itself() {
    let store = MemStore::default();
    let mut c = client();
    c.grant_types = vec!["client_credentials".into()];
    c.audiences = vec!["https://permits.example/api".into()];
    let r = exchange(&store, &c, &credentials(Some("email"), None), NOW).unwrap();
    assert!(r.id_token.is_none() && r.refresh_token.is_none());
    assert_eq!(r.scope, "email");
    let at: AccessTokenClaims = keys().verify(&r.access_token, "at+jwt", ISS, NOW).unwrap();
    assert_eq!((at.sub.as_str(), at.client_id.as_str()), ("client-1", "client-1"));
    assert_eq!((at.aud, at.auth_time), (Audience::from("https://permits.example/api"), None));
    // Not for userinfo: its audience is the API.
    assert!(validate_bearer(&store, keys(), ISS, &r.access_token, NOW).is_err());

    let e = exchange(&store, &c, &credentials(Some("openid"), None), NOW);
    assert_eq!(oauth_code(e), ErrorCode::InvalidScope);
    let e = exchange(&store, &c, &credentials(None, Some("https://other.example/")), NOW);
    assert_eq!(oauth_code(e), ErrorCode::InvalidTarget);
}

#[test]
fn client_credentials_are_refused_to_public_clients() {
    let store = MemStore::default();
    let mut c = public_client();
    c.grant_types = vec!["client_credentials".into()];
    assert_eq!(
        oauth_code(exchange(&store, &c, &credentials(None, None), NOW)),
        ErrorCode::UnauthorizedClient
    );
}

#[test]
fn a_refreshed_id_token_carries_the_claims_the_grant_asked_for() {
    use crate::authorize::{AuthorizationParams, CodeGrant, validate};
    let store = MemStore::default();
    let c = refresher();
    let params = AuthorizationParams {
        response_type: Some("code".into()),
        scope: Some("openid offline_access".into()),
        code_challenge: Some(crate::testutil::CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        claims: Some(r#"{"id_token":{"email":null}}"#.into()),
        ..Default::default()
    };
    let req = validate(&params, &c, crate::testgrant::REDIRECT.into()).unwrap();
    let grant = CodeGrant {
        subject: "acct-1".into(),
        session_id: "s".into(),
        auth_time: NOW,
        amr: vec![],
        idp: None,
    };
    let (code, row) = req.issue_code(grant, NOW, 60);
    store.insert_code(&row).unwrap();
    let first = exchange(&store, &c, &token_params(code.expose()), NOW).unwrap();
    let r = refresh(&store, &c, &first.refresh_token.unwrap(), NOW + 100).unwrap();
    let claims: serde_json::Value =
        keys().verify(&r.id_token.unwrap(), tokens::ID_TOKEN_TYP, ISS, NOW + 100).unwrap();
    assert_eq!(claims["email"], "ada@example.org");
    assert!(claims.get("nonce").is_none());
}

#[test]
fn a_refreshed_id_token_keeps_the_upstream_idp_amr_and_auth_time() {
    use crate::authorize::{AuthorizationParams, CodeGrant, validate};
    let store = MemStore::default();
    let c = refresher();
    let params = AuthorizationParams {
        response_type: Some("code".into()),
        scope: Some("openid offline_access".into()),
        code_challenge: Some(crate::testutil::CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    };
    let req = validate(&params, &c, crate::testgrant::REDIRECT.into()).unwrap();
    let grant = CodeGrant {
        subject: "acct-1".into(),
        session_id: "s".into(),
        auth_time: NOW - 50,
        amr: vec!["fed".into(), "pwd".into()],
        idp: Some("google".into()),
    };
    let (code, row) = req.issue_code(grant, NOW, 60);
    store.insert_code(&row).unwrap();
    let first = exchange(&store, &c, &token_params(code.expose()), NOW).unwrap();
    let mut token = first.refresh_token.unwrap();
    // Twice: the rotated token keeps them too.
    for at in [NOW + 100, NOW + 200] {
        let r = refresh(&store, &c, &token, at).unwrap();
        let id: IdTokenClaims = keys().verify(r.id_token.as_deref().unwrap(), "JWT", ISS, at).unwrap();
        // OIDC Core §12.2: the refreshed ID token describes the original authentication.
        assert_eq!(id.idp.as_deref(), Some("google"));
        assert_eq!((id.auth_time, id.amr), (NOW - 50, vec!["fed".to_owned(), "pwd".to_owned()]));
        token = r.refresh_token.unwrap();
    }
}
