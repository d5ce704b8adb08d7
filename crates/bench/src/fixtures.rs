//! What the scenarios need before they start: clients and accounts made with the CLI, a
//! signed-in session, and tokens from real code exchanges.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::server::Server;

pub const PASSWORD: &str = "Correct-Horse-42";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// A registered client with its secret.
#[derive(Clone, Debug)]
pub struct ClientCreds {
    pub id: String,
    pub secret: String,
}

impl ClientCreds {
    fn from_cli(out: &Value) -> Result<ClientCreds, String> {
        let field = |name: &str| {
            out[name].as_str().map(str::to_owned).ok_or_else(|| format!("client create printed no {name}"))
        };
        Ok(ClientCreds { id: field("client_id")?, secret: field("client_secret")? })
    }
}

/// The clients and accounts of one run. Emails carry `run` so a reused database does not clash.
#[derive(Clone, Debug)]
pub struct Accounts {
    /// A confidential portal: authorization_code + refresh_token.
    pub portal: ClientCreds,
    /// A machine client: client_credentials.
    pub machine: ClientCreds,
    pub emails: Vec<String>,
}

impl Accounts {
    /// Creates the clients and `users` verified accounts through the CLI.
    pub fn create(server: &Server, run: &str, users: usize) -> Result<Accounts, String> {
        let portal = ClientCreds::from_cli(&server.cli(&[
            "client",
            "create",
            "--name",
            "bench portal",
            "--redirect-uri",
            REDIRECT_URI,
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
        ])?)?;
        let machine = ClientCreds::from_cli(&server.cli(&[
            "client",
            "create",
            "--name",
            "bench machine",
            "--grant-type",
            "client_credentials",
            "--scope",
            "email",
            "--audience",
            "https://bench.example/api",
        ])?)?;
        let mut emails = Vec::with_capacity(users);
        for i in 0..users {
            let email = format!("bench-{run}-{i}@example.org");
            server.cli(&[
                "user",
                "create",
                "--email",
                &email,
                "--password",
                PASSWORD,
                "--name",
                "Bench User",
                "--email-verified",
            ])?;
            emails.push(email);
        }
        Ok(Accounts { portal, machine, emails })
    }
}

/// An HTTP client that follows no redirects and keeps enough idle connections for the load.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(512)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// `POST /api/v1/signin/password`; the `Cookie` header value of the session it starts.
pub async fn sign_in(http: &reqwest::Client, base: &str, email: &str) -> Result<String, String> {
    let body = json!({ "email": email, "password": PASSWORD });
    let resp = http
        .post(format!("{base}/api/v1/signin/password"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("sign-in: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("sign-in answered {}", resp.status()));
    }
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().filter(|kv| kv.starts_with(SESSION_COOKIE)).map(str::to_owned))
        .ok_or_else(|| "sign-in set no session cookie".to_owned())
}

/// A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
pub fn pkce_pair() -> Result<(String, String), String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no randomness".to_owned())?;
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    Ok((verifier, challenge))
}

/// `GET /authorize` with `prompt=none` for the session in `cookie`, then the code exchange at
/// `/token`; the token response.
pub async fn code_flow(
    http: &reqwest::Client,
    base: &str,
    client: &ClientCreds,
    cookie: &str,
    scope: &str,
) -> Result<Value, String> {
    let (verifier, challenge) = pkce_pair()?;
    let resp = http
        .get(format!("{base}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", scope),
            ("state", "bench"),
            ("nonce", "bench"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ])
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("authorize answered {} without a redirect", resp.status()))?;
    let location = url::Url::parse(location).map_err(|e| format!("authorize redirect: {e}"))?;
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("authorize redirected without a code: {location}"))?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
    ];
    token(http, base, client, &form).await
}

/// `POST /token` as `client` (HTTP Basic); the JSON of a 200.
pub async fn token(
    http: &reqwest::Client,
    base: &str,
    client: &ClientCreds,
    form: &[(&str, &str)],
) -> Result<Value, String> {
    let resp = http
        .post(format!("{base}/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(form)
        .send()
        .await
        .map_err(|e| format!("token: {e}"))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| format!("token body: {e}"))?;
    if !status.is_success() {
        return Err(format!("token answered {status}: {}", String::from_utf8_lossy(&body)));
    }
    serde_json::from_slice(&body).map_err(|e| format!("token body: {e}"))
}

/// A string member of a JSON response.
pub fn member(value: &Value, name: &str) -> Result<String, String> {
    value[name].as_str().map(str::to_owned).ok_or_else(|| format!("no {name} in {value}"))
}
