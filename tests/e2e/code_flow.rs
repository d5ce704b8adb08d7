//! The authorization code flow end to end with the `openidconnect` crate as the relying party:
//! it discovers the provider, validates the ID token's signature, issuer, audience and nonce,
//! and reads userinfo.

use openidconnect::core::{
    CoreClient, CoreIdTokenVerifier, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreUserInfoClaims,
};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use testkit::Gatehouse;

use crate::support::{self, TestClient};

fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Runs the whole flow for `client` and returns (id token claims subject, userinfo claims,
/// raw access token).
async fn run_flow(
    gh: &Gatehouse,
    client: &TestClient,
    email: &str,
    scopes: &[&str],
    alg: CoreJwsSigningAlgorithm,
) -> (String, CoreUserInfoClaims, String) {
    let http = rp_http();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(gh.base_url.clone()).unwrap(), &http)
        .await
        .expect("discovery document is valid");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for s in scopes {
        request = request.add_scope(Scope::new((*s).to_owned()));
    }
    let (url, state, nonce) = request.url();

    let browser = support::browser();
    let back = support::sign_in_for_code(&browser, gh, url.as_str(), email).await;
    assert!(back.starts_with(&client.redirect_uri), "{back}");
    assert_eq!(support::query_param(&back, "state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(support::query_param(&back, "iss").as_deref(), Some(gh.base_url.as_str()), "RFC 9207 iss");
    let code = support::query_param(&back, "code").expect("code in redirect");

    let token = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange succeeds");
    let id_token = token.id_token().expect("an ID token for the openid scope");
    let verifier: CoreIdTokenVerifier = rp.id_token_verifier().set_allowed_algs(vec![alg]);
    let claims = id_token.claims(&verifier, &nonce).expect("ID token validates (signature, iss, aud, nonce)");
    assert!(claims.auth_time().is_some());
    assert!(claims.access_token_hash().is_some(), "at_hash present");
    let userinfo: CoreUserInfoClaims = rp
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo answers for the access token");
    (claims.subject().to_string(), userinfo, token.access_token().secret().clone())
}

/// The raw claims of a compact JWT (the signature is checked by the RP library elsewhere).
fn jwt_parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    use base64::Engine;
    let mut parts = token.split('.');
    let decode = |p: &str| -> serde_json::Value {
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
    };
    (decode(parts.next().unwrap()), decode(parts.next().unwrap()))
}

async fn confidential_client_basic_rs256(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    let sub = support::create_user(gh, "ole@example.org");
    let (subject, userinfo, access_token) = run_flow(
        gh,
        &client,
        "Ole@Example.org",
        &["profile", "email", "phone"],
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    )
    .await;
    assert_eq!(subject, sub);
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("ole@example.org"));
    assert_eq!(userinfo.email_verified(), Some(true));
    assert_eq!(userinfo.name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Ole Mae"));

    // RFC 9068: the access token is a JWT typed at+jwt carrying client_id, scope and jti.
    let (header, claims) = jwt_parts(&access_token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["client_id"], client.id.as_str());
    assert_eq!(claims["iss"], gh.base_url.as_str());
    assert!(claims["scope"].as_str().unwrap().contains("email"));
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

async fn es256_id_tokens_when_the_client_asks(gh: &Gatehouse) {
    let client = support::create_client(gh, &["--id-token-alg", "ES256"]);
    support::create_user(gh, "es@example.org");
    let (_, userinfo, _) =
        run_flow(gh, &client, "es@example.org", &["email"], CoreJwsSigningAlgorithm::EcdsaP256Sha256).await;
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("es@example.org"));
    // Only the scopes granted: no profile claims without the profile scope.
    assert!(userinfo.name().is_none());
}

async fn public_client_uses_pkce_without_secret(gh: &Gatehouse) {
    let client = support::create_client(gh, &["--public"]);
    assert!(client.secret.is_none());
    support::create_user(gh, "pub@example.org");
    let (_, userinfo, _) =
        run_flow(gh, &client, "pub@example.org", &["email"], CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256)
            .await;
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("pub@example.org"));
}

async fn client_secret_post_is_accepted(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "post@example.org");
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email"),
            ("state", "s1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = support::sign_in_for_code(&support::browser(), gh, &url, "post@example.org").await;
    let code = support::query_param(&back, "code").unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/token", gh.base_url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", &client.id),
            ("client_secret", client.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["id_token"].is_string() && body["access_token"].is_string());
}

async fn discovery_lists_every_required_field(gh: &Gatehouse) {
    let doc: serde_json::Value = reqwest::get(format!("{}/.well-known/openid-configuration", gh.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "claims_supported",
        "scopes_supported",
    ] {
        assert!(!doc[field].is_null(), "discovery lacks {field}");
    }
    assert_eq!(doc["issuer"], gh.base_url.as_str());
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert!(doc["id_token_signing_alg_values_supported"].as_array().unwrap().contains(&"RS256".into()));
}

async fn jwks_publishes_rs256_and_es256_keys(gh: &Gatehouse) {
    let jwks: serde_json::Value =
        reqwest::get(format!("{}/.well-known/jwks.json", gh.base_url)).await.unwrap().json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(algs.contains(&"RS256") && algs.contains(&"ES256"), "{algs:?}");
    for k in keys {
        assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "private key material published");
    }
    // Keys are generated once and kept: a second start on the same database publishes the same.
    let again: serde_json::Value =
        reqwest::get(format!("{}/.well-known/jwks.json", gh.base_url)).await.unwrap().json().await.unwrap();
    assert_eq!(jwks, again);
}

async fn health_endpoints_answer(gh: &Gatehouse) {
    for path in ["/health/live", "/health/ready"] {
        let resp = reqwest::get(format!("{}{path}", gh.base_url)).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
}

crate::on_both_backends!(
    confidential_client_basic_rs256,
    es256_id_tokens_when_the_client_asks,
    public_client_uses_pkce_without_secret,
    client_secret_post_is_accepted,
    discovery_lists_every_required_field,
    jwks_publishes_rs256_and_es256_keys,
    health_endpoints_answer,
);
