//! Tokens after the code exchange: refresh rotation and reuse detection (RFC 6749 §6,
//! RFC 9700 §4.14), the client_credentials grant (RFC 6749 §4.4), revocation (RFC 7009) and
//! introspection (RFC 7662), as a portal and an API would use them over HTTP.

use serde_json::Value;
use testkit::Gatehouse;

use crate::support::{self, TestClient};

/// A confidential portal allowed to refresh.
pub(crate) fn refreshing_client(gh: &Gatehouse) -> TestClient {
    support::create_client(gh, &["--grant-type", "authorization_code", "--grant-type", "refresh_token"])
}

/// Signs `email` in through the hosted pages for `scope` and redeems the code: the token
/// response.
pub(crate) async fn sign_in_tokens(gh: &Gatehouse, client: &TestClient, email: &str, scope: &str) -> Value {
    let (code, verifier) = support::code_for(gh, client, email, scope).await;
    let (status, body) = post_as(
        gh,
        client,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// POSTs a form to `path` as `client`: HTTP Basic for a confidential client, client_id in the
/// body for a public one; (status, JSON body).
pub(crate) async fn post_as(
    gh: &Gatehouse,
    client: &TestClient,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{}{path}", gh.base_url));
    req = match &client.secret {
        Some(secret) => req.basic_auth(&client.id, Some(secret)),
        None => req,
    };
    let mut form: Vec<(&str, &str)> = form.to_vec();
    if client.secret.is_none() {
        form.push(("client_id", &client.id));
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

pub(crate) async fn refresh(
    gh: &Gatehouse,
    client: &TestClient,
    token: &str,
    scope: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_as(gh, client, "/token", &form).await
}

/// The status userinfo answers for an access token.
pub(crate) async fn userinfo_status(gh: &Gatehouse, access_token: &str) -> u16 {
    let resp = reqwest::Client::new()
        .get(format!("{}/userinfo", gh.base_url))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

/// The claims of a compact JWT, unverified (the code flow tests check signatures).
fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}"))
}

async fn refresh_rotates_and_the_new_tokens_work(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    support::create_user(gh, "ref@example.org");
    let first = sign_in_tokens(gh, &client, "ref@example.org", "openid email offline_access").await;
    let old = str_of(&first, "refresh_token");

    let (status, second) = refresh(gh, &client, old, None).await;
    assert_eq!(status, 200, "{second}");
    let new = str_of(&second, "refresh_token");
    assert_ne!(new, old, "the refresh token rotates");
    assert_eq!(second["scope"], "openid email offline_access");
    // OIDC Core §12.2: a new ID token for the same sign-in, without the nonce.
    let (before, after) = (claims(str_of(&first, "id_token")), claims(str_of(&second, "id_token")));
    assert_eq!(after["sub"], before["sub"]);
    assert_eq!(after["auth_time"], before["auth_time"]);
    assert!(after.get("nonce").is_none());
    assert_eq!(userinfo_status(gh, str_of(&second, "access_token")).await, 200);

    let (status, third) = refresh(gh, &client, new, None).await;
    assert_eq!(status, 200, "{third}");
}

async fn reused_refresh_token_revokes_the_family(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    support::create_user(gh, "reuse@example.org");
    let first = sign_in_tokens(gh, &client, "reuse@example.org", "openid offline_access").await;
    let old = str_of(&first, "refresh_token");
    let (_, second) = refresh(gh, &client, old, None).await;
    let access = str_of(&second, "access_token");
    assert_eq!(userinfo_status(gh, access).await, 200);

    // The old token again, as an attacker holding a copy would present it.
    let (status, error) = refresh(gh, &client, old, None).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")));
    // The whole family is gone: the legitimate newest token, and the access tokens it carried.
    let (status, error) = refresh(gh, &client, str_of(&second, "refresh_token"), None).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(userinfo_status(gh, access).await, 401);
    assert_eq!(userinfo_status(gh, str_of(&first, "access_token")).await, 401);
    let (_, introspected) = post_as(gh, &client, "/introspect", &[("token", access)]).await;
    assert_eq!(introspected, serde_json::json!({"active": false}));
}

async fn refresh_may_narrow_the_scope_but_not_widen_it(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    support::create_user(gh, "narrow@example.org");
    let first = sign_in_tokens(gh, &client, "narrow@example.org", "openid email offline_access").await;
    let token = str_of(&first, "refresh_token");

    let (status, error) = refresh(gh, &client, token, Some("openid email phone")).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_scope")));
    // The refused request did not spend the token.
    let (status, narrowed) = refresh(gh, &client, token, Some("openid")).await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "openid");
    assert_eq!(claims(str_of(&narrowed, "access_token"))["scope"], "openid");
}

async fn refresh_tokens_need_offline_access_and_the_grant(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    support::create_user(gh, "online@example.org");
    let online = sign_in_tokens(gh, &client, "online@example.org", "openid email").await;
    assert!(online.get("refresh_token").is_none(), "{online}");

    // A portal registered without the grant has no refresh_token grant at the token endpoint.
    let plain = support::create_client(gh, &[]);
    let (status, error) = refresh(gh, &plain, "anything", None).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("unauthorized_client")));
    let (status, error) = refresh(gh, &client, "never issued", None).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_grant")));
}

/// A machine client of the permits API (no redirect URI: it never signs anyone in), and the
/// API itself registered to introspect its tokens.
fn machine_and_api(gh: &Gatehouse) -> (TestClient, TestClient) {
    let out = gh.cli_json(&[
        "client",
        "create",
        "--name",
        "Permits export",
        "--grant-type",
        "client_credentials",
        "--scope",
        "email",
        "--audience",
        "https://permits.example/api",
    ]);
    assert_eq!(out["audiences"], serde_json::json!(["https://permits.example/api"]));
    let machine = TestClient {
        id: str_of(&out, "client_id").to_owned(),
        secret: Some(str_of(&out, "client_secret").to_owned()),
        redirect_uri: String::new(),
    };
    let api = support::create_client(gh, &["--audience", "https://permits.example/api"]);
    (machine, api)
}

async fn client_credentials_give_a_machine_an_access_token(gh: &Gatehouse) {
    let (machine, api) = machine_and_api(gh);
    let (status, body) = post_as(gh, &machine, "/token", &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["token_type"].as_str(), body["scope"].as_str()), (Some("Bearer"), Some("email")));
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none(), "{body}");
    let token = str_of(&body, "access_token");
    let c = claims(token);
    assert_eq!(
        (c["sub"].as_str(), c["client_id"].as_str()),
        (Some(machine.id.as_str()), Some(machine.id.as_str()))
    );
    assert_eq!(c["aud"], "https://permits.example/api");
    // The API sees it active; userinfo is not its audience.
    let (_, seen) = post_as(gh, &api, "/introspect", &[("token", token)]).await;
    assert_eq!((seen["active"].as_bool(), seen["sub"].as_str()), (Some(true), Some(machine.id.as_str())));
    assert_eq!(userinfo_status(gh, token).await, 401);

    let (status, body) = post_as(
        gh,
        &machine,
        "/token",
        &[("grant_type", "client_credentials"), ("resource", "https://permits.example/api")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn client_credentials_refuse_bad_scopes_resources_and_public_clients(gh: &Gatehouse) {
    let (machine, _) = machine_and_api(gh);
    for (form, error) in [
        (vec![("grant_type", "client_credentials"), ("scope", "openid")], "invalid_scope"),
        (vec![("grant_type", "client_credentials"), ("scope", "email phone")], "invalid_scope"),
        (vec![("grant_type", "client_credentials"), ("resource", "https://evil.example/")], "invalid_target"),
    ] {
        let (status, body) = post_as(gh, &machine, "/token", &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(error)), "{form:?}");
    }
    // A portal not registered for the grant, and a public client, may not use it.
    let portal = support::create_client(gh, &[]);
    let (status, body) = post_as(gh, &portal, "/token", &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
    let public = support::create_client(gh, &["--public"]);
    let (status, body) = post_as(gh, &public, "/token", &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
    let out = gh.cli(&["client", "create", "--name", "x", "--public", "--grant-type", "client_credentials"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("confidential"));
}

async fn revoking_an_access_token_ends_it_and_its_grant(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    support::create_user(gh, "revoke-at@example.org");
    let tokens = sign_in_tokens(gh, &client, "revoke-at@example.org", "openid offline_access").await;
    let access = str_of(&tokens, "access_token");
    let (_, seen) = post_as(gh, &client, "/introspect", &[("token", access)]).await;
    assert_eq!(seen["active"], true);

    let (status, _) =
        post_as(gh, &client, "/revoke", &[("token", access), ("token_type_hint", "access_token")]).await;
    assert_eq!(status, 200);
    assert_eq!(userinfo_status(gh, access).await, 401);
    let (_, seen) = post_as(gh, &client, "/introspect", &[("token", access)]).await;
    assert_eq!(seen, serde_json::json!({"active": false}));
    let (status, body) = refresh(gh, &client, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

async fn revoking_a_refresh_token_ends_its_family(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    support::create_user(gh, "revoke-rt@example.org");
    let tokens = sign_in_tokens(gh, &client, "revoke-rt@example.org", "openid offline_access").await;
    let refresh_token = str_of(&tokens, "refresh_token");
    // The hint is wrong on purpose: it is only a hint.
    let (status, _) =
        post_as(gh, &client, "/revoke", &[("token", refresh_token), ("token_type_hint", "access_token")])
            .await;
    assert_eq!(status, 200);
    let (status, body) = refresh(gh, &client, refresh_token, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(userinfo_status(gh, str_of(&tokens, "access_token")).await, 401);
}

async fn another_clients_revocation_revokes_nothing(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    let other = refreshing_client(gh);
    support::create_user(gh, "other@example.org");
    let tokens = sign_in_tokens(gh, &client, "other@example.org", "openid offline_access").await;
    for token in [str_of(&tokens, "access_token"), str_of(&tokens, "refresh_token")] {
        let (status, _) = post_as(gh, &other, "/revoke", &[("token", token)]).await;
        assert_eq!(status, 200, "RFC 7009 §2.2: the same answer as for a token it owns");
        let (_, seen) = post_as(gh, &other, "/introspect", &[("token", token)]).await;
        assert_eq!(seen, serde_json::json!({"active": false}), "another client learns nothing");
        let (_, seen) = post_as(gh, &client, "/introspect", &[("token", token)]).await;
        assert_eq!(seen["active"], true, "still alive for its owner");
    }
    assert_eq!(userinfo_status(gh, str_of(&tokens, "access_token")).await, 200);
}

async fn revocation_answers_unknown_missing_and_unauthenticated_requests(gh: &Gatehouse) {
    let client = refreshing_client(gh);
    let (status, body) = post_as(gh, &client, "/revoke", &[("token", "never-issued")]).await;
    assert_eq!((status, body), (200, Value::Null));
    let (status, body) = post_as(gh, &client, "/revoke", &[("token_type_hint", "refresh_token")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let resp = reqwest::Client::new()
        .post(format!("{}/revoke", gh.base_url))
        .basic_auth(&client.id, Some("wrong secret"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));

    support::create_user(gh, "idt@example.org");
    let tokens = sign_in_tokens(gh, &client, "idt@example.org", "openid").await;
    let (status, body) = post_as(gh, &client, "/revoke", &[("token", str_of(&tokens, "id_token"))]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_token_type")));
}

async fn a_public_client_revokes_its_own_refresh_token_but_cannot_introspect(gh: &Gatehouse) {
    let app = support::create_client(
        gh,
        &["--public", "--grant-type", "authorization_code", "--grant-type", "refresh_token"],
    );
    support::create_user(gh, "app@example.org");
    let tokens = sign_in_tokens(gh, &app, "app@example.org", "openid offline_access").await;
    let refresh_token = str_of(&tokens, "refresh_token");
    let (status, body) = post_as(gh, &app, "/introspect", &[("token", refresh_token)]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    let (status, _) = post_as(gh, &app, "/revoke", &[("token", refresh_token)]).await;
    assert_eq!(status, 200);
    let (status, body) = refresh(gh, &app, refresh_token, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    // A browser app calls /revoke from its own origin.
    let resp = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/revoke", gh.base_url))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}

async fn introspection_reports_garbage_and_expired_tokens_inactive(backend: support::Backend) {
    let gh = support::start_with(backend, &[("GATEHOUSE_TOKENS__ACCESS_TOKEN_TTL", "2")]).await;
    let client = refreshing_client(&gh);
    support::create_user(&gh, "exp@example.org");
    let tokens = sign_in_tokens(&gh, &client, "exp@example.org", "openid email").await;
    let access = str_of(&tokens, "access_token");
    let (status, seen) = post_as(&gh, &client, "/introspect", &[("token", access)]).await;
    assert_eq!(status, 200);
    assert_eq!((seen["active"].as_bool(), seen["scope"].as_str()), (Some(true), Some("openid email")));
    assert_eq!(
        (seen["client_id"].as_str(), seen["iss"].as_str()),
        (Some(client.id.as_str()), Some(gh.base_url.as_str()))
    );
    assert!(seen["exp"].is_i64() && seen["sub"].is_string() && seen["jti"].is_string());
    for garbage in ["garbage", "a.b.c", ""] {
        let (status, seen) = post_as(&gh, &client, "/introspect", &[("token", garbage)]).await;
        if garbage.is_empty() {
            assert_eq!((status, seen["error"].as_str()), (400, Some("invalid_request")));
        } else {
            assert_eq!((status, seen), (200, serde_json::json!({"active": false})), "{garbage}");
        }
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (_, seen) = post_as(&gh, &client, "/introspect", &[("token", access)]).await;
    assert_eq!(seen, serde_json::json!({"active": false}), "expired");
}

async fn discovery_advertises_refresh_revocation_and_introspection(gh: &Gatehouse) {
    let doc: Value = reqwest::get(format!("{}/.well-known/openid-configuration", gh.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert!(doc["scopes_supported"].as_array().unwrap().contains(&"offline_access".into()));
    assert_eq!(doc["revocation_endpoint"], format!("{}/revoke", gh.base_url));
    assert_eq!(doc["introspection_endpoint"], format!("{}/introspect", gh.base_url));
    assert!(doc["revocation_endpoint_auth_methods_supported"].as_array().unwrap().contains(&"none".into()));
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "client_secret_jwt"
        ])
    );
}

crate::on_both_backends!(
    refresh_rotates_and_the_new_tokens_work,
    reused_refresh_token_revokes_the_family,
    refresh_may_narrow_the_scope_but_not_widen_it,
    refresh_tokens_need_offline_access_and_the_grant,
    client_credentials_give_a_machine_an_access_token,
    client_credentials_refuse_bad_scopes_resources_and_public_clients,
    revoking_an_access_token_ends_it_and_its_grant,
    revoking_a_refresh_token_ends_its_family,
    another_clients_revocation_revokes_nothing,
    revocation_answers_unknown_missing_and_unauthenticated_requests,
    a_public_client_revokes_its_own_refresh_token_but_cannot_introspect,
    discovery_advertises_refresh_revocation_and_introspection,
);

mod expiring {
    use super::introspection_reports_garbage_and_expired_tokens_inactive;
    crate::per_backend!(introspection_reports_garbage_and_expired_tokens_inactive);
}
