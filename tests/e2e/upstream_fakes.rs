//! Apple and Facebook as they document themselves, on loopback, each CHECKING what gatehouse
//! sends: Apple's token endpoint verifies the ES256 client-secret JWT and PKCE and answers an
//! RS256 ID token from a JWKS it serves; Facebook's token endpoint checks the app secret and
//! its Graph API the `appsecret_proof`. A tiny HTTP/1.1 server (one request per connection)
//! is enough: gatehouse and the test are the only clients.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use aws_lc_rs::{digest, hmac, signature::UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

pub struct Request {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
}

pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub location: Option<String>,
    pub body: String,
}

fn json_response(status: u16, body: serde_json::Value) -> Response {
    Response { status, content_type: "application/json", location: None, body: body.to_string() }
}

/// Serves `handler` on a free loopback port; returns `http://127.0.0.1:PORT`.
fn serve(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let Some(request) = read_request(&mut stream) else { continue };
            let r = handler(&request);
            let location = r.location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 {} X\r\nContent-Type: {}\r\n{location}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                r.status,
                r.content_type,
                r.body.len(),
                r.body
            );
        }
    });
    base
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0usize);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let mut first = head.lines().next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut params: HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    params.extend(url::form_urlencoded::parse(&data[head_end..]).into_owned());
    Some(Request { method, path: path.to_owned(), params })
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

pub const APPLE_TEAM: &str = "TEAM123456";
pub const APPLE_KEY_ID: &str = "KEY1234567";
pub const APPLE_CLIENT: &str = "gov.atlanta.id";
pub const APPLE_EMAIL: &str = "ole.apple@privaterelay.appleid.com";

pub struct FakeApple {
    pub issuer: String,
    /// The `.p8` file contents gatehouse is configured with.
    pub private_key_pem: String,
    /// Token requests whose client secret and PKCE verifier passed every check.
    pub verified_token_requests: Arc<AtomicUsize>,
}

struct ApplePending {
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

/// "Sign in with Apple": discovery, `/auth/authorize` (answers the form Apple posts back, with
/// `user` on the first authorization only), `/auth/token`, `/auth/keys`.
pub fn apple() -> FakeApple {
    let team_key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pem_body = STANDARD.encode(team_key.to_pkcs8v1().unwrap().as_ref());
    let private_key_pem = format!("-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----\n");
    let team_public = team_key.public_key().as_ref().to_vec();
    let signing = tokens::SigningKey::generate(tokens::Algorithm::Rs256, 0).unwrap();
    let jwks = json!({ "keys": [signing.public_jwk()] });
    let verified = Arc::new(AtomicUsize::new(0));
    let pending: Mutex<HashMap<String, ApplePending>> = Mutex::default();
    let authorized_before = AtomicBool::new(false);
    let issuer = Arc::new(Mutex::new(String::new()));
    let (me, counter) = (issuer.clone(), verified.clone());
    let base = serve(move |r| {
        let iss = me.lock().unwrap().clone();
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/.well-known/openid-configuration") => json_response(
                200,
                json!({
                    "issuer": iss,
                    "authorization_endpoint": format!("{iss}/auth/authorize"),
                    "token_endpoint": format!("{iss}/auth/token"),
                    "jwks_uri": format!("{iss}/auth/keys"),
                    "response_types_supported": ["code", "code id_token"],
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "email", "name"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                }),
            ),
            ("GET", "/auth/keys") => json_response(200, jwks.clone()),
            ("GET", "/auth/authorize") => {
                let p = &r.params;
                let scopes: Vec<&str> = p["scope"].split(' ').collect();
                assert_eq!(p["response_mode"], "form_post", "Apple needs form_post for name and email");
                assert!(scopes.contains(&"name") && scopes.contains(&"email"), "{scopes:?}");
                assert_eq!((p["client_id"].as_str(), p["response_type"].as_str()), (APPLE_CLIENT, "code"));
                assert_eq!(p["code_challenge_method"], "S256");
                let code = format!("c{}", tokens::OpaqueToken::generate().expose());
                let user = json!({"name": {"firstName": "Ole", "lastName": "Apple"}, "email": APPLE_EMAIL});
                let mut fields = vec![("code", code.clone()), ("state", p["state"].clone())];
                // Apple posts `user` only the first time the person authorizes the app.
                if !authorized_before.swap(true, Ordering::SeqCst) {
                    fields.push(("user", user.to_string()));
                }
                pending.lock().unwrap().insert(
                    code,
                    ApplePending {
                        nonce: p["nonce"].clone(),
                        challenge: p["code_challenge"].clone(),
                        redirect_uri: p["redirect_uri"].clone(),
                    },
                );
                let inputs: String = fields
                    .iter()
                    .map(|(k, v)| {
                        format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", v.replace('"', "&quot;"))
                    })
                    .collect();
                // As Apple's page: a form POSTed to the return URL by a script as it loads (a
                // cross-site POST), with a button for a browser without script.
                let body = format!(
                    "<!doctype html><html><body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}<button type=\"submit\">Continue</button></form></body></html>",
                    p["redirect_uri"]
                );
                Response { status: 200, content_type: "text/html", location: None, body }
            }
            ("POST", "/auth/token") => {
                let p = &r.params;
                let refuse = |why: &str| json_response(400, json!({"error": "invalid_client", "why": why}));
                let Some(flow) = pending.lock().unwrap().remove(&p["code"]) else { return refuse("code") };
                if let Err(why) = check_client_secret(&p["client_secret"], &team_public, &iss) {
                    return refuse(&why);
                }
                if p["client_id"] != APPLE_CLIENT
                    || p["grant_type"] != "authorization_code"
                    || p["redirect_uri"] != flow.redirect_uri
                    || s256(&p["code_verifier"]) != flow.challenge
                {
                    return json_response(400, json!({"error": "invalid_grant"}));
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let now = support_now();
                let id_token = signing
                    .sign_jwt(
                        "JWT",
                        &json!({
                            "iss": iss, "aud": APPLE_CLIENT, "exp": now + 600, "iat": now,
                            "sub": "001234.5f3e0c1a.0942", "nonce": flow.nonce, "auth_time": now,
                            "email": APPLE_EMAIL, "email_verified": "true", "is_private_email": "true",
                        }),
                    )
                    .unwrap();
                json_response(
                    200,
                    json!({
                        "access_token": "apple-access", "token_type": "Bearer", "expires_in": 3600,
                        "refresh_token": "apple-refresh", "id_token": id_token,
                    }),
                )
            }
            _ => json_response(404, json!({})),
        }
    });
    *issuer.lock().unwrap() = base.clone();
    FakeApple { issuer: base, private_key_pem, verified_token_requests: verified }
}

fn support_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Apple's "Creating a client secret": ES256 with the team key, header `kid`, claims `iss`
/// (team), `sub` (Services ID), `aud` (Apple's issuer), `iat`, `exp` ≤ 6 months ahead.
fn check_client_secret(jwt: &str, team_public: &[u8], issuer: &str) -> Result<(), String> {
    let part = |i: usize| -> Result<serde_json::Value, String> {
        let raw = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).ok_or("parts")?).map_err(|e| e.to_string())?;
        serde_json::from_slice(&raw).map_err(|e| e.to_string())
    };
    let (input, signature) = jwt.rsplit_once('.').ok_or("no signature")?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, team_public)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| "bad ES256 signature")?;
    let (header, claims) = (part(0)?, part(1)?);
    let now = support_now();
    let (iat, exp) = (claims["iat"].as_i64().ok_or("iat")?, claims["exp"].as_i64().ok_or("exp")?);
    let ok = header["alg"] == "ES256"
        && header["kid"] == APPLE_KEY_ID
        && claims["iss"] == APPLE_TEAM
        && claims["sub"] == APPLE_CLIENT
        && claims["aud"] == issuer
        && exp > now
        && iat <= now + 60
        && exp - iat <= 15_777_000;
    if ok { Ok(()) } else { Err(format!("claims {header} {claims}")) }
}

pub const FB_APP: &str = "1234567890";
pub const FB_SECRET: &str = "fb-app-secret";

pub struct FakeFacebook {
    /// `http://127.0.0.1:PORT/v19.0`: the dialog, token and Graph URLs hang below it.
    pub base: String,
    /// Whether the person shares their email (the `email` permission).
    pub share_email: Arc<AtomicBool>,
    /// Whether the token endpoint checks the app secret (off: let the Graph API's
    /// `appsecret_proof` check be what refuses a wrong secret).
    pub check_secret: Arc<AtomicBool>,
    /// Graph calls whose `appsecret_proof` was right.
    pub proofs_ok: Arc<AtomicUsize>,
}

/// "Manually Build a Login Flow": the dialog redirects back with `code` and `state`; the token
/// endpoint swaps the code; `/me` answers with `id`, `name` and, if shared, `email`.
pub fn facebook() -> FakeFacebook {
    let share_email = Arc::new(AtomicBool::new(true));
    let check_secret = Arc::new(AtomicBool::new(true));
    let proofs_ok = Arc::new(AtomicUsize::new(0));
    let (share, strict, proofs) = (share_email.clone(), check_secret.clone(), proofs_ok.clone());
    let codes: Mutex<HashMap<String, (String, String)>> = Mutex::default();
    let tokens_issued: Mutex<Vec<String>> = Mutex::default();
    let oauth_error = |message: &str| {
        json_response(400, json!({"error": {"message": message, "type": "OAuthException", "code": 100}}))
    };
    let base = serve(move |r| {
        let p = &r.params;
        match r.path.as_str() {
            "/v19.0/dialog/oauth" => {
                assert_eq!((p["client_id"].as_str(), p["response_type"].as_str()), (FB_APP, "code"));
                assert!(p["scope"].contains("email"), "{}", p["scope"]);
                let code = format!("fb{}", tokens::OpaqueToken::generate().expose());
                codes
                    .lock()
                    .unwrap()
                    .insert(code.clone(), (p["redirect_uri"].clone(), p["code_challenge"].clone()));
                let mut back = url::Url::parse(&p["redirect_uri"]).unwrap();
                back.query_pairs_mut().append_pair("code", &code).append_pair("state", &p["state"]);
                Response {
                    status: 302,
                    content_type: "text/plain",
                    location: Some(back.into()),
                    body: String::new(),
                }
            }
            "/v19.0/oauth/access_token" => {
                let Some((redirect_uri, challenge)) = codes.lock().unwrap().remove(&p["code"]) else {
                    return oauth_error("Invalid verification code format.");
                };
                if strict.load(Ordering::SeqCst) && p["client_secret"] != FB_SECRET {
                    return oauth_error("Error validating client secret.");
                }
                if p["client_id"] != FB_APP
                    || p["redirect_uri"] != redirect_uri
                    || s256(&p["code_verifier"]) != challenge
                {
                    return oauth_error("Invalid redirect_uri or code_verifier.");
                }
                let token = format!("EAA{}", tokens::OpaqueToken::generate().expose());
                tokens_issued.lock().unwrap().push(token.clone());
                json_response(
                    200,
                    json!({"access_token": token, "token_type": "bearer", "expires_in": 5183944}),
                )
            }
            "/v19.0/me" => {
                let token = p.get("access_token").cloned().unwrap_or_default();
                if !tokens_issued.lock().unwrap().contains(&token) {
                    return oauth_error("Invalid OAuth access token.");
                }
                let key = hmac::Key::new(hmac::HMAC_SHA256, FB_SECRET.as_bytes());
                let expected: String =
                    hmac::sign(&key, token.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect();
                if p.get("appsecret_proof") != Some(&expected) {
                    return oauth_error("Invalid appsecret_proof provided in the API argument");
                }
                proofs.fetch_add(1, Ordering::SeqCst);
                assert_eq!(p["fields"], "id,name,email");
                let mut me = json!({"id": "10158000000000001", "name": "Ole Facebook"});
                if share.load(Ordering::SeqCst) {
                    me["email"] = json!("Ole.FB@Example.org");
                }
                json_response(200, me)
            }
            _ => json_response(404, json!({})),
        }
    });
    FakeFacebook { base: format!("{base}/v19.0"), share_email, check_secret, proofs_ok }
}
