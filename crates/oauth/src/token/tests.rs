use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokens::{AccessTokenClaims, IdTokenClaims, at_hash};

use super::*;
use crate::store::{ClientId, GrantId};
use crate::testgrant::{ISS, NOW, REDIRECT, exchange, keys, oauth_code, stored_code, token_params};
use crate::testutil::{MemStore, client, public_client};

pub(super) fn header_alg(jwt: &str) -> String {
    let h = jwt.split('.').next().unwrap();
    let h: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
    h["alg"].as_str().unwrap().to_owned()
}

#[test]
fn code_exchange_issues_access_and_id_tokens_with_every_claim() {
    let store = MemStore::default();
    let c = client();
    let (code, grant_id) = stored_code(&store, &c, "openid email", NOW);
    let r = exchange(&store, &c, &token_params(&code), NOW + 5).unwrap();
    assert_eq!((r.token_type, r.expires_in, r.scope.as_str()), ("Bearer", 600, "openid email"));

    let at: AccessTokenClaims = keys().verify(&r.access_token, "at+jwt", ISS, NOW + 5).unwrap();
    assert_eq!(header_alg(&r.access_token), "ES256");
    assert_eq!((at.iss.as_str(), at.sub.as_str(), &at.aud), (ISS, "acct-1", &tokens::Audience::from(ISS)));
    assert_eq!((at.iat, at.exp, at.auth_time), (NOW + 5, NOW + 605, Some(NOW - 30)));
    assert_eq!((at.client_id.as_str(), at.scope.as_str()), ("client-1", "openid email"));
    assert_eq!(at.gid, grant_id.as_str());
    assert!(uuid::Uuid::parse_str(&at.jti).is_ok());

    let id_token = r.id_token.as_deref().unwrap();
    assert_eq!(header_alg(id_token), "RS256");
    let id: IdTokenClaims = keys().verify(id_token, "JWT", ISS, NOW + 5).unwrap();
    assert_eq!((id.iss.as_str(), id.sub.as_str()), (ISS, "acct-1"));
    assert_eq!((id.aud.as_str(), id.azp.as_str()), ("client-1", "client-1"));
    assert_eq!((id.iat, id.exp, id.auth_time), (NOW + 5, NOW + 305, NOW - 30));
    assert_eq!(id.nonce.as_deref(), Some("n-0S6"));
    assert_eq!(id.at_hash, Some(at_hash(&r.access_token, Algorithm::Rs256)));
    assert_eq!(id.amr, ["pwd", "mfa"]);
    assert_eq!(id.sid, "sid-1");

    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    assert!(json.get("refresh_token").is_none());
}

#[test]
fn id_token_uses_the_client_algorithm() {
    let store = MemStore::default();
    let mut c = public_client();
    c.id_token_signed_response_alg = "ES256".into();
    let (code, _) = stored_code(&store, &c, "openid", NOW);
    let r = exchange(&store, &c, &token_params(&code), NOW).unwrap();
    let id_token = r.id_token.unwrap();
    assert_eq!(header_alg(&id_token), "ES256");
    let id: IdTokenClaims = keys().verify(&id_token, "JWT", ISS, NOW).unwrap();
    assert_eq!(id.at_hash, Some(at_hash(&r.access_token, Algorithm::Es256)));
}

#[test]
fn no_id_token_without_openid() {
    let store = MemStore::default();
    let c = client();
    let (_, p) = store_row_with_scope(&store, &c, "email");
    let r = exchange(&store, &c, &p, NOW).unwrap();
    assert!(r.id_token.is_none());
    assert_eq!(r.scope, "email");
    assert!(serde_json::to_value(&r).unwrap().get("id_token").is_none());
}

/// A code whose granted scope lacks openid (not producible by `validate`, but a stored row).
fn store_row_with_scope(store: &MemStore, c: &Client, scope: &str) -> (String, TokenParams) {
    let code = tokens::OpaqueToken::generate();
    let row = crate::store::NewCode {
        code_hash: code.hash(),
        grant_id: GrantId::generate(),
        client_id: c.id.clone(),
        redirect_uri: REDIRECT.into(),
        subject: "acct-1".into(),
        scope: scope.into(),
        nonce: None,
        code_challenge: crate::testutil::CHALLENGE.into(),
        auth_time: NOW,
        amr: vec![],
        session_id: "s".into(),
        idp: None,
        claims: None,
        created_at: NOW,
        expires_at: NOW + 60,
    };
    store.insert_code(&row).unwrap();
    (code.expose().to_owned(), token_params(code.expose()))
}

#[test]
fn grant_type_must_be_authorization_code_and_allowed() {
    let store = MemStore::default();
    let c = client();
    let mut p = token_params("x");
    p.grant_type = None;
    assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::InvalidRequest);
    for g in ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"] {
        p.grant_type = Some(g.into());
        assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::UnsupportedGrantType);
    }
    // RFC 6749 §5.2: a grant the client is not registered for is unauthorized_client.
    for g in ["refresh_token", "client_credentials"] {
        p.grant_type = Some(g.into());
        assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::UnauthorizedClient, "{g}");
    }
    let mut c = client();
    c.grant_types = vec!["client_credentials".into()];
    let p = token_params("x");
    assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::UnauthorizedClient);
}

#[test]
fn missing_code_or_redirect_uri_is_invalid_request() {
    let store = MemStore::default();
    let mut p = token_params("x");
    p.code = None;
    assert_eq!(oauth_code(exchange(&store, &client(), &p, NOW)), ErrorCode::InvalidRequest);
    let mut p = token_params("x");
    p.redirect_uri = Some(String::new());
    assert_eq!(oauth_code(exchange(&store, &client(), &p, NOW)), ErrorCode::InvalidRequest);
}

#[test]
fn missing_verifier_is_invalid_grant_and_does_not_spend_the_code() {
    let store = MemStore::default();
    let c = client();
    let (code, _) = stored_code(&store, &c, "openid", NOW);
    let mut p = token_params(&code);
    p.code_verifier = None;
    assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::InvalidGrant);
    assert!(exchange(&store, &c, &token_params(&code), NOW).is_ok());
}

#[test]
fn unknown_code_is_invalid_grant() {
    let store = MemStore::default();
    let p = token_params("no-such-code");
    assert_eq!(oauth_code(exchange(&store, &client(), &p, NOW)), ErrorCode::InvalidGrant);
}

#[test]
fn code_expires_at_exactly_60_seconds() {
    let store = MemStore::default();
    let c = client();
    let (code, _) = stored_code(&store, &c, "openid", NOW);
    assert!(exchange(&store, &c, &token_params(&code), NOW + 59).is_ok());
    let (code, _) = stored_code(&store, &c, "openid", NOW);
    assert_eq!(oauth_code(exchange(&store, &c, &token_params(&code), NOW + 60)), ErrorCode::InvalidGrant);
}

#[test]
fn code_is_bound_to_client_redirect_uri_and_verifier() {
    let store = MemStore::default();
    let c = client();
    let (code, _) = stored_code(&store, &c, "openid", NOW);
    let mut other = client();
    other.id = ClientId::from_stored("client-2".into());
    assert_eq!(oauth_code(exchange(&store, &other, &token_params(&code), NOW)), ErrorCode::InvalidGrant);

    for wrong in ["https://portal.example.org/cb", "https://portal.example.org/cb?tenant=atl/"] {
        let (code, _) = stored_code(&store, &c, "openid", NOW);
        let mut p = token_params(&code);
        p.redirect_uri = Some(wrong.into());
        assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::InvalidGrant, "{wrong}");
    }

    let (code, _) = stored_code(&store, &c, "openid", NOW);
    let mut p = token_params(&code);
    p.code_verifier = Some("x".repeat(43));
    assert_eq!(oauth_code(exchange(&store, &c, &p, NOW)), ErrorCode::InvalidGrant);
}

#[test]
fn replayed_code_is_refused_and_revokes_the_grant() {
    let store = MemStore::default();
    let c = client();
    let (code, grant_id) = stored_code(&store, &c, "openid", NOW);
    let first = exchange(&store, &c, &token_params(&code), NOW).unwrap();
    assert!(validate_bearer(&store, keys(), ISS, &first.access_token, NOW + 1).is_ok());
    assert!(!store.is_grant_revoked(&grant_id).unwrap());

    assert_eq!(oauth_code(exchange(&store, &c, &token_params(&code), NOW + 2)), ErrorCode::InvalidGrant);
    assert!(store.is_grant_revoked(&grant_id).unwrap());
    let e = validate_bearer(&store, keys(), ISS, &first.access_token, NOW + 3).unwrap_err();
    assert!(matches!(e, BearerError::Invalid(_)), "{e:?}");
    assert_eq!(e.to_oauth().unwrap().code, ErrorCode::InvalidToken);
}

#[test]
fn validate_bearer_accepts_a_live_access_token() {
    let store = MemStore::default();
    let c = client();
    let (code, grant_id) = stored_code(&store, &c, "openid email", NOW);
    let r = exchange(&store, &c, &token_params(&code), NOW).unwrap();
    let claims = validate_bearer(&store, keys(), ISS, &r.access_token, NOW + 599).unwrap();
    assert_eq!(claims.gid, grant_id.as_str());
    assert_eq!(claims.scope, "openid email");
}

#[test]
fn validate_bearer_rejects_expired_foreign_and_non_access_tokens() {
    let store = MemStore::default();
    let c = client();
    let (code, _) = stored_code(&store, &c, "openid", NOW);
    let r = exchange(&store, &c, &token_params(&code), NOW).unwrap();
    let invalid = |token: &str, iss: &str, now: i64| {
        matches!(validate_bearer(&store, keys(), iss, token, now), Err(BearerError::Invalid(_)))
    };
    assert!(invalid(&r.access_token, ISS, NOW + 600));
    assert!(invalid(&r.access_token, "https://other.example", NOW));
    assert!(invalid(r.id_token.as_deref().unwrap(), ISS, NOW));
    assert!(invalid("not.a.jwt", ISS, NOW));
    // Flip the first character of the signature.
    let sig_at = r.access_token.rfind('.').unwrap() + 1;
    let mut tampered = r.access_token.clone();
    let flipped = if tampered[sig_at..].starts_with('A') { "B" } else { "A" };
    tampered.replace_range(sig_at..=sig_at, flipped);
    assert!(invalid(&tampered, ISS, NOW));
}

#[test]
fn the_claims_parameter_puts_allowed_user_claims_in_the_id_token() {
    use crate::authorize::{AuthorizationParams, CodeGrant, validate};
    let store = MemStore::default();
    let c = client();
    let params = AuthorizationParams {
        response_type: Some("code".into()),
        scope: Some("openid".into()),
        code_challenge: Some(crate::testutil::CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        claims: Some(r#"{"id_token":{"email":{"essential":true},"phone_number":null,"sub":null}}"#.into()),
        ..Default::default()
    };
    let req = validate(&params, &c, REDIRECT.into()).unwrap();
    let grant = CodeGrant {
        subject: "acct-1".into(),
        session_id: "s".into(),
        auth_time: NOW,
        amr: vec![],
        idp: None,
    };
    let (code, row) = req.issue_code(grant, NOW, 60);
    store.insert_code(&row).unwrap();
    let r = exchange(&store, &c, &token_params(code.expose()), NOW).unwrap();
    let id_token = r.id_token.unwrap();
    let claims: serde_json::Value = keys().verify(&id_token, tokens::ID_TOKEN_TYP, ISS, NOW).unwrap();
    // email: the client may have the email scope; phone_number: it may not (not registered).
    assert_eq!(claims["email"], "ada@example.org");
    assert!(claims.get("phone_number").is_none());
    assert_eq!(claims["sub"], "acct-1");
    assert_eq!(r.scope, "openid", "the claims parameter does not widen the access token's scope");
}
