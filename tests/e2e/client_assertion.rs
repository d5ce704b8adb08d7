//! Client authentication with JWT assertions (RFC 7523 §2.2, OIDC Core §9) over HTTP:
//! `private_key_jwt` with keys registered by value and by `jwks_uri` (served here by a loopback
//! HTTP server), `client_secret_jwt`, single-use `jti`s, the audience rule, and the token,
//! introspection and revocation endpoints accepting assertions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use testkit::Gatehouse;
use tokens::{Algorithm, SigningKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, TestClient};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn claims(client_id: &str, aud: &str) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now(),
        "exp": now() + 120,
        "jti": uuid_like(),
    })
}

/// A fresh random jti.
fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwks_of(keys: &[&SigningKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() }).to_string()
}

/// An HS256 JWS (RFC 7515 §7.1) keyed with the octets of `secret` (OIDC Core §9).
fn hs256(claims: &Value, secret: &str) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", b64(&json!({"alg": "HS256", "typ": "JWT"})), b64(claims));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// A `private_key_jwt` client whose JWKS is registered by value, from a file.
fn client_with_jwks(gh: &Gatehouse, key: &SigningKey, extra: &[&str]) -> TestClient {
    let path = gh.data_dir.join(format!("jwks-{}.json", key.kid()));
    std::fs::write(&path, jwks_of(&[key])).unwrap();
    let mut args = vec!["--auth-method", "private_key_jwt", "--jwks", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let client = support::create_client(gh, &args);
    assert!(client.secret.is_none(), "a private_key_jwt client gets no secret");
    client
}

async fn post(gh: &Gatehouse, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new().post(gh.url(path)).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn client_credentials(gh: &Gatehouse, assertion: &str) -> (u16, Value) {
    post(
        gh,
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

async fn private_key_jwt_by_value_gets_a_token_once(gh: &Gatehouse) {
    let key = SigningKey::generate(Algorithm::Es256, now()).unwrap();
    let client = client_with_jwks(gh, &key, &["--grant-type", "client_credentials"]);
    let listed = gh.cli_json(&["client", "list"]);
    let row = listed.as_array().unwrap().iter().find(|c| c["client_id"] == client.id.as_str()).unwrap();
    assert_eq!(row["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(row["jwks"]["keys"][0]["kid"], key.kid());

    let assertion = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    let (status, body) = client_credentials(gh, &assertion).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    // RFC 7523 §3 item 7: the same assertion again is a replay.
    let (status, body) = client_credentials(gh, &assertion).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");

    // The issuer identifier is an audience too; another server's token endpoint is not.
    let to_issuer = key.sign_jwt("JWT", &claims(&client.id, &gh.base_url)).unwrap();
    assert_eq!(client_credentials(gh, &to_issuer).await.0, 200);
    let elsewhere = key.sign_jwt("JWT", &claims(&client.id, "https://other.example/token")).unwrap();
    let (status, body) = client_credentials(gh, &elsewhere).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");

    // Another key, even with the registered kid's name missing: refused.
    let stranger = SigningKey::generate(Algorithm::Es256, now()).unwrap();
    let forged = stranger.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    assert_eq!(client_credentials(gh, &forged).await.0, 401);

    // RFC 6749 §2.3: one method per request.
    let fresh = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    let (status, body) = post(
        gh,
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", "x"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &fresh),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
}

async fn introspection_and_revocation_accept_assertions(gh: &Gatehouse) {
    let key = SigningKey::generate(Algorithm::Es256, now()).unwrap();
    let client = client_with_jwks(gh, &key, &["--grant-type", "client_credentials"]);
    let assertion = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    let (status, body) = client_credentials(gh, &assertion).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();

    // Addressed to the introspection endpoint itself (RFC 7523 §3 lets the server choose).
    let fresh = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/introspect"))).unwrap();
    let form =
        [("token", token.as_str()), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &fresh)];
    let (status, body) = post(gh, "/introspect", &form).await;
    assert_eq!((status, &body["active"]), (200, &json!(true)), "{body}");
    let (status, _) = post(gh, "/introspect", &form).await;
    assert_eq!(status, 401, "the introspection assertion is single use too");

    let fresh = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    let form =
        [("token", token.as_str()), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &fresh)];
    assert_eq!(post(gh, "/revoke", &form).await.0, 200);
    let fresh = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    let form =
        [("token", token.as_str()), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &fresh)];
    let (status, body) = post(gh, "/introspect", &form).await;
    assert_eq!((status, &body["active"]), (200, &json!(false)), "revoked: {body}");
}

/// Serves whatever JWKS `doc` holds at `/jwks` on loopback; counts the requests.
async fn serve_jwks(doc: Arc<Mutex<String>>, hits: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (doc, hits) = (doc.clone(), hits.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                hits.fetch_add(1, Ordering::SeqCst);
                let body = doc.lock().unwrap().clone();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    url
}

async fn private_key_jwt_by_jwks_uri_refetches_for_a_new_kid(gh: &Gatehouse) {
    let first = SigningKey::generate(Algorithm::Es256, now()).unwrap();
    let doc = Arc::new(Mutex::new(jwks_of(&[&first])));
    let hits = Arc::new(AtomicUsize::new(0));
    let uri = serve_jwks(doc.clone(), hits.clone()).await;
    let client = support::create_client(
        gh,
        &["--grant-type", "client_credentials", "--auth-method", "private_key_jwt", "--jwks-uri", &uri],
    );
    let token_url = gh.url("/token");
    for _ in 0..2 {
        let assertion = first.sign_jwt("JWT", &claims(&client.id, &token_url)).unwrap();
        let (status, body) = client_credentials(gh, &assertion).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the JWKS is cached");

    // The client rotates to an RSA key: the unknown kid makes gatehouse fetch the set again.
    let second = SigningKey::generate(Algorithm::Rs256, now()).unwrap();
    *doc.lock().unwrap() = jwks_of(&[&second]);
    let assertion = second.sign_jwt("JWT", &claims(&client.id, &token_url)).unwrap();
    let (status, body) = client_credentials(gh, &assertion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // The retired key no longer works, and an unknown kid right after is not fetched again.
    let assertion = first.sign_jwt("JWT", &claims(&client.id, &token_url)).unwrap();
    assert_eq!(client_credentials(gh, &assertion).await.0, 401);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "refetches are rate limited");
}

async fn client_secret_jwt_works_and_only_it(gh: &Gatehouse) {
    let client = support::create_client(
        gh,
        &["--grant-type", "client_credentials", "--auth-method", "client_secret_jwt"],
    );
    let secret = client.secret.clone().expect("a client_secret_jwt client gets a secret");
    let assertion = hs256(&claims(&client.id, &gh.url("/token")), &secret);
    let (status, body) = client_credentials(gh, &assertion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(client_credentials(gh, &assertion).await.0, 401, "replay");
    let wrong = hs256(&claims(&client.id, &gh.url("/token")), "not-the-secret");
    assert_eq!(client_credentials(gh, &wrong).await.0, 401);
    // A client may use only the method it is registered with.
    let resp = reqwest::Client::new()
        .post(gh.url("/token"))
        .basic_auth(&client.id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

async fn code_flow_redeems_with_private_key_jwt(gh: &Gatehouse) {
    let key = SigningKey::generate(Algorithm::Es256, now()).unwrap();
    let client = client_with_jwks(gh, &key, &[]);
    support::create_user(gh, "pkj@example.org");
    let (code, verifier) = support::code_for(gh, &client, "pkj@example.org", "openid email").await;
    let assertion = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/token"))).unwrap();
    let (status, body) = post(
        gh,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", &client.id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string() && body["access_token"].is_string());

    // Pushed authorization requests authenticate the same way; the PAR endpoint's own URL is
    // an audience (RFC 9126 §2).
    let (_, challenge) = testkit::pkce::pair();
    let assertion = key.sign_jwt("JWT", &claims(&client.id, &gh.url("/par"))).unwrap();
    let push = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];
    let (status, body) = post(gh, "/par", &push).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["request_uri"].is_string());
    let (status, body) = post(gh, "/par", &push).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "replayed at /par: {body}");
}

async fn discovery_lists_the_jwt_methods(gh: &Gatehouse) {
    let doc: Value =
        reqwest::get(gh.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    for field in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        let methods = doc[field].as_array().unwrap();
        assert!(
            methods.contains(&json!("private_key_jwt")) && methods.contains(&json!("client_secret_jwt")),
            "{field}"
        );
    }
    let algs = doc["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap();
    assert!(
        algs.contains(&json!("ES256")) && algs.contains(&json!("RS256")) && algs.contains(&json!("HS256"))
    );
    assert!(!algs.contains(&json!("none")));
}

mod admin_api {
    use super::*;

    /// The admin API registers, rekeys and rotates JWT-authenticated clients.
    async fn admin_api_registers_jwt_clients(backend: support::Backend) {
        let out = std::process::Command::new(support::bin()).args(["admin", "token"]).output().unwrap();
        let pair: Value = serde_json::from_slice(&out.stdout).unwrap();
        let gh = support::start_with(
            backend,
            &[("GATEHOUSE_ADMIN__TOKEN_SHA256", pair["token_sha256"].as_str().unwrap())],
        )
        .await;
        let token = pair["token"].as_str().unwrap().to_owned();
        let call = |method: reqwest::Method, path: String, body: Value| {
            let request = reqwest::Client::new()
                .request(method, gh.url(&format!("/admin/v1{path}")))
                .bearer_auth(&token);
            async move {
                let resp = request.json(&body).send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let first = SigningKey::generate(Algorithm::Es256, now()).unwrap();
        let body = json!({
            "name": "Permits API",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": serde_json::from_str::<Value>(&jwks_of(&[&first])).unwrap(),
        });
        let (status, created) = call(reqwest::Method::POST, "/clients".into(), body).await;
        assert_eq!(status, 201, "{created}");
        assert!(created["client_secret"].is_null());
        let id = created["client_id"].as_str().unwrap().to_owned();
        let assertion = first.sign_jwt("JWT", &claims(&id, &gh.url("/token"))).unwrap();
        assert_eq!(client_credentials(&gh, &assertion).await.0, 200);

        // New keys replace the old ones; the method cannot change; there is no secret to rotate.
        let second = SigningKey::generate(Algorithm::Es256, now()).unwrap();
        let rekey = json!({ "jwks": serde_json::from_str::<Value>(&jwks_of(&[&second])).unwrap() });
        let (status, body) = call(reqwest::Method::PATCH, format!("/clients/{id}"), rekey).await;
        assert_eq!(status, 200, "{body}");
        let old = first.sign_jwt("JWT", &claims(&id, &gh.url("/token"))).unwrap();
        assert_eq!(client_credentials(&gh, &old).await.0, 401);
        let new = second.sign_jwt("JWT", &claims(&id, &gh.url("/token"))).unwrap();
        assert_eq!(client_credentials(&gh, &new).await.0, 200);
        let switch = json!({ "token_endpoint_auth_method": "client_secret_basic" });
        assert_eq!(call(reqwest::Method::PATCH, format!("/clients/{id}"), switch).await.0, 422);
        assert_eq!(call(reqwest::Method::POST, format!("/clients/{id}/secret"), Value::Null).await.0, 409);

        // A client_secret_jwt client's rotated secret signs; the old one no longer does.
        let body = json!({ "name": "Fees API", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_jwt" });
        let (status, created) = call(reqwest::Method::POST, "/clients".into(), body).await;
        assert_eq!(status, 201, "{created}");
        let id = created["client_id"].as_str().unwrap().to_owned();
        let old_secret = created["client_secret"].as_str().unwrap().to_owned();
        let (status, rotated) =
            call(reqwest::Method::POST, format!("/clients/{id}/secret"), Value::Null).await;
        assert_eq!(status, 200, "{rotated}");
        let new_secret = rotated["client_secret"].as_str().unwrap();
        assert_eq!(
            client_credentials(&gh, &hs256(&claims(&id, &gh.url("/token")), &old_secret)).await.0,
            401
        );
        assert_eq!(client_credentials(&gh, &hs256(&claims(&id, &gh.url("/token")), new_secret)).await.0, 200);
    }

    crate::per_backend!(admin_api_registers_jwt_clients);
}

crate::on_both_backends!(
    private_key_jwt_by_value_gets_a_token_once,
    introspection_and_revocation_accept_assertions,
    private_key_jwt_by_jwks_uri_refetches_for_a_new_kid,
    client_secret_jwt_works_and_only_it,
    code_flow_redeems_with_private_key_jwt,
    discovery_lists_the_jwt_methods,
);
