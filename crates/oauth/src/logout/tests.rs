use tokens::{ACCESS_TOKEN_TYP, Algorithm, ID_TOKEN_TYP, IdTokenClaims};

use super::*;
use crate::testgrant::{ISS, NOW, keys};
use crate::testutil::client;

fn id_token(aud: &str, exp: i64) -> String {
    let claims = IdTokenClaims {
        iss: ISS.into(),
        sub: "acct-1".into(),
        aud: aud.into(),
        exp,
        iat: exp - 300,
        auth_time: exp - 300,
        nonce: Some("n".into()),
        at_hash: None,
        amr: vec!["pwd".into()],
        sid: "sid-1".into(),
        azp: aud.into(),
        idp: None,
    };
    keys().signer(Algorithm::Rs256).sign_jwt(ID_TOKEN_TYP, &claims).unwrap()
}

fn portal() -> Client {
    Client { post_logout_redirect_uris: vec!["https://portal.example.org/bye?x=1".into()], ..client() }
}

fn params(hint: Option<&str>, client_id: Option<&str>, uri: Option<&str>) -> LogoutParams {
    LogoutParams {
        id_token_hint: hint.map(Into::into),
        client_id: client_id.map(Into::into),
        post_logout_redirect_uri: uri.map(Into::into),
        state: Some("st 1".into()),
        ui_locales: Some("fr".into()),
    }
}

#[test]
fn an_expired_hint_from_us_is_accepted_and_names_its_client_and_session() {
    let hint = verify_hint(keys(), &id_token("client-1", NOW - 86_400), ISS).unwrap();
    assert_eq!(
        hint,
        VerifiedHint {
            subject: "acct-1".into(),
            sid: "sid-1".into(),
            client_id: ClientId::from_stored("client-1".into())
        }
    );
}

#[test]
fn a_hint_we_did_not_issue_is_refused() {
    let token = id_token("client-1", NOW + 300);
    assert_eq!(verify_hint(keys(), &token, "https://other.example"), Err(LogoutError::InvalidHint));
    assert_eq!(verify_hint(keys(), "not-a-jwt", ISS), Err(LogoutError::InvalidHint));
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(verify_hint(keys(), &tampered, ISS), Err(LogoutError::InvalidHint));
    // An access token is signed by the same keys but is not an ID token.
    let at = keys().signer(Algorithm::Es256).sign_jwt(
        ACCESS_TOKEN_TYP,
        &serde_json::json!({
            "iss": ISS, "sub": "acct-1", "aud": "client-1", "exp": NOW + 300, "sid": "sid-1"
        }),
    );
    assert_eq!(verify_hint(keys(), &at.unwrap(), ISS), Err(LogoutError::InvalidHint));
}

#[test]
fn client_id_must_match_the_hints_audience() {
    let hint = verify_hint(keys(), &id_token("client-1", NOW), ISS).unwrap();
    let named = named_client(&params(None, Some("client-1"), None), Some(&hint)).unwrap();
    assert_eq!(named.as_ref().map(ClientId::as_str), Some("client-1"));
    assert_eq!(
        named_client(&params(None, Some("other"), None), Some(&hint)),
        Err(LogoutError::ClientMismatch)
    );
    assert_eq!(named_client(&params(None, None, None), None), Ok(None));
    assert_eq!(
        named_client(&params(None, Some("c2"), None), None),
        Ok(Some(ClientId::from_stored("c2".into())))
    );
}

#[test]
fn a_registered_post_logout_redirect_uri_gets_the_state() {
    let c = portal();
    let p = params(None, Some("client-1"), Some("https://portal.example.org/bye?x=1"));
    let request = validate(&p, None, Some(&c.id), Some(&c)).unwrap();
    assert_eq!(request.redirect.as_deref(), Some("https://portal.example.org/bye?x=1&state=st+1"));
    let no_state = LogoutParams { state: None, ..p };
    let request = validate(&no_state, None, Some(&c.id), Some(&c)).unwrap();
    assert_eq!(request.redirect.as_deref(), Some("https://portal.example.org/bye?x=1"));
}

/// Found by fuzz/fuzz_targets/redirect_uri.rs (fuzz/regressions/redirect_uri/logout-normalised-uri):
/// the redirect went to the parsed, normalised URI instead of the registered one.
#[test]
fn the_post_logout_redirect_keeps_the_registered_uri_byte_for_byte() {
    let mut c = portal();
    c.post_logout_redirect_uris = vec!["https://Portal.example.org".into()];
    let p = params(None, Some("client-1"), Some("https://Portal.example.org"));
    let request = validate(&p, None, Some(&c.id), Some(&c)).unwrap();
    assert_eq!(request.redirect.as_deref(), Some("https://Portal.example.org?state=st+1"));
}

#[test]
fn post_logout_redirect_uri_must_match_exactly_and_needs_a_client() {
    let c = portal();
    for bad in
        ["https://portal.example.org/bye", "https://portal.example.org/bye?x=1&y=2", "https://evil.example/"]
    {
        let p = params(None, Some("client-1"), Some(bad));
        assert_eq!(
            validate(&p, None, Some(&c.id), Some(&c)),
            Err(LogoutError::UnregisteredRedirect),
            "{bad}"
        );
    }
    let p = params(None, None, Some("https://portal.example.org/bye?x=1"));
    assert_eq!(validate(&p, None, None, None), Err(LogoutError::RedirectWithoutClient));
    let unknown = ClientId::from_stored("gone".into());
    assert_eq!(
        validate(&params(None, Some("gone"), None), None, Some(&unknown), None),
        Err(LogoutError::UnknownClient)
    );
}

#[test]
fn only_a_hint_for_this_very_session_and_account_signs_out_without_asking() {
    let hint = verify_hint(keys(), &id_token("client-1", NOW), ISS).unwrap();
    let c = portal();
    let request = validate(&params(None, None, None), Some(hint), Some(&c.id), Some(&c)).unwrap();
    assert!(request.names_session("sid-1", "acct-1"));
    assert!(!request.names_session("sid-2", "acct-1"));
    assert!(!request.names_session("sid-1", "acct-2"));
    let bare = validate(&params(None, None, None), None, None, None).unwrap();
    assert!(!bare.names_session("sid-1", "acct-1"));
    assert_eq!(bare.redirect, None);
}
