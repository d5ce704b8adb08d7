//! Tokens after the code exchange: refresh rotation and reuse detection (RFC 6749 §6,
//! RFC 9700 §4.14), the client_credentials grant (RFC 6749 §4.4), revocation (RFC 7009) and
//! introspection (RFC 7662), as a portal and an API would use them over HTTP.

use serde_json::Value;
use testkit::Gatehouse;

use crate::support::{self, TestClient};

/// A confidential portal allowed to refresh.
fn refreshing_client(gh: &Gatehouse) -> TestClient {
    support::create_client(gh, &["--grant-type", "authorization_code", "--grant-type", "refresh_token"])
}

/// Signs `email` in through the hosted pages for `scope` and redeems the code: the token
/// response.
async fn sign_in_tokens(gh: &Gatehouse, client: &TestClient, email: &str, scope: &str) -> Value {
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", scope),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = support::sign_in_for_code(&support::browser(), gh, &url, email).await;
    let code = support::query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let resp = support::redeem(gh, client, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// POSTs a form to `path` with HTTP Basic client authentication; (status, JSON body).
async fn post_as(gh: &Gatehouse, client: &TestClient, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
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

async fn refresh(gh: &Gatehouse, client: &TestClient, token: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_as(gh, client, "/token", &form).await
}

/// The status userinfo answers for an access token.
async fn userinfo_status(gh: &Gatehouse, access_token: &str) -> u16 {
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

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
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

crate::on_both_backends!(
    refresh_rotates_and_the_new_tokens_work,
    reused_refresh_token_revokes_the_family,
    refresh_may_narrow_the_scope_but_not_widen_it,
    refresh_tokens_need_offline_access_and_the_grant,
);
