//! Bad input against every endpoint and form of the running binary, over raw TCP so that
//! nothing in the client tidies the request: oversized bodies, malformed percent-encoding,
//! invalid UTF-8 in the query, body and headers, repeated and missing parameters, the wrong
//! Content-Type, a 64 KB header, and random bytes. Every answer must be a 4xx (or, where the
//! input is legitimately ignored, a normal answer) in its endpoint's shape — RFC 6749 §5.2 JSON
//! at the token-class endpoints, a page or a redirect at /authorize, `{error, message}` at
//! /api/v1 and /admin/v1, an HTML page on the hosted forms — and never a 5xx, a panic or a hang.
//!
//! Adding an endpoint is one line in [`ENDPOINTS`].

use crate::raw_http::{Response, send};
use crate::support::{self, Backend};

/// What an endpoint's errors look like on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// RFC 6749 §5.2 JSON (`{"error": …}`), at the token, PAR, revocation and introspection
    /// endpoints.
    OAuth,
    /// RFC 6750 §3: a `WWW-Authenticate: Bearer` challenge, with §5.2 JSON when there is an error.
    Bearer,
    /// RFC 6749 §4.1.2.1: a page for a bad client or redirect URI, else a redirect.
    Authorize,
    /// `{"error", "message"}` of the JSON and admin APIs.
    Api,
    /// A friendly HTML page of the hosted UI (a GET may ignore junk and show the page).
    Page,
    /// Takes no input (discovery, JWKS, health, static files, the OpenAPI documents).
    Fixed,
}

/// How an endpoint takes its input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Input {
    Query,
    Form,
    Json,
}

struct Endpoint {
    method: &'static str,
    path: &'static str,
    input: Input,
    shape: Shape,
}

const fn ep(method: &'static str, path: &'static str, input: Input, shape: Shape) -> Endpoint {
    Endpoint { method, path, input, shape }
}

use Input::{Form, Json, Query};
use Shape::{Api, Authorize, Bearer, Fixed, OAuth, Page};

/// Every route of crates/server/src/routes.
const ENDPOINTS: &[Endpoint] = &[
    ep("GET", "/health/live", Query, Fixed),
    ep("GET", "/health/ready", Query, Fixed),
    ep("GET", "/metrics", Query, Fixed),
    ep("GET", "/.well-known/openid-configuration", Query, Fixed),
    ep("GET", "/.well-known/jwks.json", Query, Fixed),
    ep("GET", "/static/gatehouse.css", Query, Fixed),
    ep("GET", "/authorize", Query, Authorize),
    ep("POST", "/authorize", Form, Authorize),
    ep("POST", "/authorize/consent", Form, Page),
    ep("POST", "/par", Form, OAuth),
    ep("POST", "/token", Form, OAuth),
    ep("POST", "/revoke", Form, OAuth),
    ep("POST", "/introspect", Form, OAuth),
    ep("GET", "/userinfo", Query, Bearer),
    ep("POST", "/userinfo", Form, Bearer),
    ep("GET", "/signin", Query, Page),
    ep("POST", "/signin/identify", Form, Page),
    ep("POST", "/signin/method", Form, Page),
    ep("POST", "/signin/password", Form, Page),
    ep("POST", "/signin/code", Form, Page),
    ep("GET", "/federation/google/start", Query, Page),
    ep("GET", "/federation/google/callback", Query, Page),
    ep("POST", "/federation/apple/callback", Form, Page),
    ep("GET", "/password/forgot", Query, Page),
    ep("POST", "/password/forgot", Form, Page),
    ep("GET", "/password/reset", Query, Page),
    ep("POST", "/password/reset", Form, Page),
    ep("GET", "/signup", Query, Page),
    ep("POST", "/signup", Form, Page),
    ep("GET", "/verify-email", Query, Page),
    ep("POST", "/verify-email", Form, Page),
    ep("GET", "/unlock", Query, Page),
    ep("POST", "/unlock", Form, Page),
    ep("GET", "/unlock/confirm", Query, Page),
    ep("POST", "/unlock/confirm", Form, Page),
    ep("GET", "/profile", Query, Page),
    ep("GET", "/profile/edit", Query, Page),
    ep("POST", "/profile/edit", Form, Page),
    ep("GET", "/profile/password", Query, Page),
    ep("POST", "/profile/password", Form, Page),
    ep("GET", "/profile/delete", Query, Page),
    ep("POST", "/profile/delete", Form, Page),
    ep("GET", "/profile/portals", Query, Page),
    ep("POST", "/profile/portals/remove", Form, Page),
    ep("GET", "/logout", Query, Page),
    ep("POST", "/logout", Form, Page),
    ep("POST", "/logout/confirm", Form, Page),
    ep("POST", "/signout", Form, Page),
    ep("GET", "/api/v1/openapi.json", Query, Fixed),
    ep("GET", "/api/v1/password-rules", Query, Fixed),
    ep("POST", "/api/v1/signup", Json, Api),
    ep("POST", "/api/v1/signup/verify", Json, Api),
    ep("POST", "/api/v1/password/forgot", Json, Api),
    ep("POST", "/api/v1/password/reset", Json, Api),
    ep("POST", "/api/v1/unlock", Json, Api),
    ep("POST", "/api/v1/unlock/confirm", Json, Api),
    ep("POST", "/api/v1/signin/password", Json, Api),
    ep("POST", "/api/v1/signin/code", Json, Api),
    ep("POST", "/api/v1/signin/code/verify", Json, Api),
    ep("GET", "/api/v1/session", Query, Api),
    ep("DELETE", "/api/v1/session", Query, Api),
    ep("GET", "/api/v1/profile", Query, Api),
    ep("PATCH", "/api/v1/profile", Json, Api),
    ep("DELETE", "/api/v1/profile", Json, Api),
    ep("POST", "/api/v1/profile/password", Json, Api),
    ep("GET", "/api/v1/profile/portals", Query, Api),
    ep("DELETE", "/api/v1/profile/portals/%FF%FE", Query, Api),
    ep("GET", "/api/v1/no-such-endpoint", Query, Api),
    ep("GET", "/admin/v1/openapi.json", Query, Fixed),
    ep("GET", "/admin/v1/clients", Query, Api),
    ep("POST", "/admin/v1/clients", Json, Api),
    ep("GET", "/admin/v1/clients/%FF%FE", Query, Api),
    ep("PATCH", "/admin/v1/clients/no-such-client", Json, Api),
    ep("DELETE", "/admin/v1/clients/%ZZ", Query, Api),
    ep("POST", "/admin/v1/clients/no-such-client/secret", Json, Api),
    ep("GET", "/admin/v1/accounts", Query, Api),
    ep("GET", "/admin/v1/accounts/%FF", Query, Api),
    ep("DELETE", "/admin/v1/accounts/no-such-account", Query, Api),
    ep("POST", "/admin/v1/accounts/no-such-account/lock", Json, Api),
    ep("POST", "/admin/v1/accounts/no-such-account/unlock", Json, Api),
    ep("GET", "/admin/v1/accounts/no-such-account/sessions", Query, Api),
    ep("DELETE", "/admin/v1/accounts/no-such-account/sessions", Query, Api),
    ep("DELETE", "/admin/v1/sessions", Query, Api),
    ep("DELETE", "/admin/v1/sessions/no-such-session", Query, Api),
    ep("GET", "/admin/v1/keys", Query, Api),
    ep("POST", "/admin/v1/keys/rotate", Json, Api),
    ep("GET", "/admin/v1/audit", Query, Api),
];

/// JSON endpoints whose body may be empty or `{}`.
const OPTIONAL_BODY: &[&str] = &["/admin/v1/keys/rotate"];

#[derive(Clone, Copy, Debug)]
enum Attack {
    /// A 2 MB body (a 2 MB query would be a huge header; see `HugeHeader`).
    Oversized,
    /// `%ZZ`, a lone `%`, and `%FF%FE` (percent-encoded invalid UTF-8).
    BadPercent,
    /// Raw bytes 0xFF 0xFE in the query or body.
    BadUtf8,
    /// Invalid UTF-8 in the Cookie, Authorization and Content-Type headers.
    BadUtf8Headers,
    /// Every parameter twice (RFC 6749 §3.1: "MUST NOT be included more than once").
    Duplicated,
    /// No parameters at all.
    Missing,
    WrongContentType,
    /// One 64 KB header.
    HugeHeader,
    /// 4 KB of random bytes as the body or the query.
    RandomBytes,
}

const ATTACKS: &[Attack] = &[
    Attack::Oversized,
    Attack::BadPercent,
    Attack::BadUtf8,
    Attack::BadUtf8Headers,
    Attack::Duplicated,
    Attack::Missing,
    Attack::WrongContentType,
    Attack::HugeHeader,
    Attack::RandomBytes,
];

/// What a test request carries beyond the attack: credentials that get it past the first
/// check, so the junk reaches the parsers behind it.
struct Context {
    /// `Authorization` for the admin API.
    admin: String,
    /// `Authorization: Basic` of a confidential client, for the token-class endpoints.
    basic: String,
    /// A CSRF cookie and its form token, for the hosted forms.
    csrf_cookie: String,
    csrf_token: String,
}

/// A small deterministic generator (xorshift64), so a failure replays.
struct Bytes(u64);

impl Bytes {
    fn fill(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 24) as u8
            })
            .collect()
    }
}

fn content_type(input: Input) -> &'static str {
    match input {
        Json => "application/json",
        Form | Query => "application/x-www-form-urlencoded",
    }
}

/// The parameters a request to `e` normally carries (repeated by `Duplicated`).
fn params(e: &Endpoint, ctx: &Context) -> String {
    match e.input {
        Json => r#""email":"ole@example.org","password":"x","token":"t","code":"123456""#.to_owned(),
        Form | Query => format!(
            "csrf={}&grant_type=authorization_code&client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb\
             &response_type=code&scope=openid&token=t&email=ole%40example.org&code=c&state=s",
            ctx.csrf_token
        ),
    }
}

/// Builds the raw request for `e` under `attack`.
fn request(e: &Endpoint, attack: Attack, ctx: &Context, rng: &mut Bytes) -> Vec<u8> {
    let mut ctype = content_type(e.input).to_owned().into_bytes();
    let mut extra: Vec<Vec<u8>> = Vec::new();
    let normal = params(e, ctx);
    let wrap = |inner: &str| match e.input {
        Json => format!("{{{inner}}}").into_bytes(),
        _ => inner.as_bytes().to_vec(),
    };
    let data: Vec<u8> = match attack {
        Attack::Oversized => vec![b'a'; 2 * 1024 * 1024],
        Attack::BadPercent => match e.input {
            Json => br#"{"email":"%ZZ%","password":"%FF%FE"}"#.to_vec(),
            _ => format!("{normal}&client_id=%ZZ&state=%&x=%FF%FE").into_bytes(),
        },
        Attack::BadUtf8 => {
            let mut v = wrap(&normal);
            let at = v.len() / 2;
            v.splice(at..at, [0xFF, 0xFE, 0xC0, 0x80]);
            v
        }
        Attack::BadUtf8Headers => {
            ctype.extend_from_slice(b"; charset=\xFF\xFE");
            extra.push(b"X-Junk: \xFF\xFE\x80".to_vec());
            extra.push(b"Cookie: gatehouse_csrf=\xFF\xFE; gatehouse_session=\xC0\x80".to_vec());
            wrap(&normal)
        }
        Attack::Duplicated => match e.input {
            Json => wrap(&format!("{normal},{normal}")),
            _ => format!("{normal}&{normal}").into_bytes(),
        },
        Attack::Missing => match e.input {
            Json => b"{}".to_vec(),
            _ => Vec::new(),
        },
        Attack::WrongContentType => {
            ctype = match e.input {
                Json => b"application/x-www-form-urlencoded".to_vec(),
                _ => b"text/plain".to_vec(),
            };
            wrap(&normal)
        }
        Attack::HugeHeader => {
            extra.push(format!("X-Junk: {}", "a".repeat(64 * 1024)).into_bytes());
            wrap(&normal)
        }
        // A query cannot hold spaces, CR or LF: keep the random bytes URL-safe there.
        Attack::RandomBytes if e.input == Query => {
            rng.fill(4096).iter().map(|b| b"abcdefghij%&=+;?/~!*"[*b as usize % 20]).collect()
        }
        Attack::RandomBytes => rng.fill(4096),
    };
    // The oversized body goes to every endpoint, even one that reads the query.
    let (query, body) = match (attack, e.input) {
        (Attack::Oversized, _) | (_, Form | Json) => (Vec::new(), Some(data)),
        (_, Query) => (data, None),
    };

    let mut raw = Vec::new();
    raw.extend_from_slice(e.method.as_bytes());
    raw.push(b' ');
    raw.extend_from_slice(e.path.as_bytes());
    if !query.is_empty() {
        raw.push(b'?');
        raw.extend_from_slice(&query);
    }
    raw.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    let authorization = if e.path.starts_with("/admin/") {
        Some(ctx.admin.clone())
    } else if e.shape == OAuth {
        Some(ctx.basic.clone())
    } else if e.shape == Bearer {
        Some(ctx.basic.replace("Basic", "Bearer"))
    } else {
        None
    };
    if let Some(a) = authorization {
        raw.extend_from_slice(format!("Authorization: {a}\r\n").as_bytes());
    }
    if !matches!(attack, Attack::BadUtf8Headers) {
        raw.extend_from_slice(format!("Cookie: gatehouse_csrf={}\r\n", ctx.csrf_cookie).as_bytes());
    }
    for h in extra {
        raw.extend_from_slice(&h);
        raw.extend_from_slice(b"\r\n");
    }
    if let Some(body) = &body {
        raw.extend_from_slice(b"Content-Type: ");
        raw.extend_from_slice(&ctype);
        raw.extend_from_slice(format!("\r\nContent-Length: {}\r\n", body.len()).as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        raw.extend_from_slice(&body);
    }
    raw
}

/// `None` if the answer is right for `e` under `attack`, else what is wrong.
fn judge(e: &Endpoint, attack: Attack, resp: Option<&Response>) -> Option<String> {
    let Some(r) = resp else {
        // Only a header too large to read may end the connection without an answer.
        return (!matches!(attack, Attack::HugeHeader)).then(|| "closed without an answer".to_owned());
    };
    if r.status >= 500 {
        return Some(format!("server error {}", r.status));
    }
    if matches!(attack, Attack::HugeHeader) && (r.status == 431 || r.status == 400) {
        return None;
    }
    // Raw bytes in the request line: the HTTP parser refuses the request before any route
    // sees it, with a bare 400.
    if matches!(attack, Attack::BadUtf8) && e.input == Query && r.status == 400 && r.body.is_empty() {
        return None;
    }
    let ctype = r.header("content-type").unwrap_or_default();
    let json = || serde_json::from_slice::<serde_json::Value>(&r.body).ok();
    let has = |v: &serde_json::Value, k: &str| v[k].as_str().is_some_and(|s| !s.is_empty());
    match e.shape {
        Fixed => (r.status >= 400).then(|| format!("{} for a request it should ignore", r.status)),
        OAuth => {
            let ok = (400..500).contains(&r.status)
                && ctype.starts_with("application/json")
                && json().is_some_and(|v| has(&v, "error"));
            (!ok).then(|| "not an RFC 6749 §5.2 error".to_owned())
        }
        Bearer => {
            let challenge = r.header("www-authenticate").unwrap_or_default().starts_with("Bearer");
            let body_ok = r.body.is_empty() || json().is_some_and(|v| has(&v, "error"));
            let ok = (400..500).contains(&r.status) && challenge && body_ok;
            (!ok).then(|| "not an RFC 6750 §3 error".to_owned())
        }
        // A query the endpoint does not read may be ignored (listing, signing out twice).
        Api if e.input == Query && (200..300).contains(&r.status) => None,
        // `{}` is a whole request where every field is optional.
        Api if matches!(attack, Attack::Missing) && OPTIONAL_BODY.contains(&e.path) && r.status < 300 => None,
        Api => {
            let ok = (400..500).contains(&r.status)
                && ctype.starts_with("application/json")
                && json().is_some_and(|v| has(&v, "error") && has(&v, "message"));
            (!ok).then(|| "not an API error {error, message}".to_owned())
        }
        Authorize | Page => {
            let location = r.header("location").unwrap_or_default();
            match r.status {
                // A hosted page may show itself despite junk it does not read, or accept a
                // form whose fields survived (the forgot-password page answers the same for
                // every address).
                200 if ctype.starts_with("text/html") => None,
                // To the sign-in page, or back where it came from: never off-site.
                302 | 303 if location.starts_with('/') => None,
                400..=499 if ctype.starts_with("text/html") => None,
                _ => Some(format!("not a page or an on-site redirect (Location {location:?})")),
            }
        }
    }
}

async fn context(gh: &testkit::Gatehouse, admin_token: &str) -> Context {
    let client = support::create_client(gh, &[]);
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", client.id, client.secret.unwrap()),
    );
    let resp = reqwest::get(gh.url("/signin")).await.unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("gatehouse_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let html = resp.text().await.unwrap();
    Context {
        admin: format!("Bearer {admin_token}"),
        basic: format!("Basic {basic}"),
        csrf_cookie: cookie,
        csrf_token: support::hidden(&html, "csrf"),
    }
}

/// Runs the table against a fresh server on `backend`, for the endpoints `which` selects.
async fn run(backend: Backend, which: fn(&Endpoint) -> bool) {
    let out = std::process::Command::new(support::bin()).args(["admin", "token"]).output().unwrap();
    let pair: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let env = [("GATEHOUSE_ADMIN__TOKEN_SHA256", pair["token_sha256"].as_str().unwrap())];
    let gh = support::start_with(backend, &env).await;
    let ctx = context(&gh, pair["token"].as_str().unwrap()).await;
    let mut rng = Bytes(0x9E37_79B9_7F4A_7C15);
    let mut failures = Vec::new();
    let mut count = 0;
    for e in ENDPOINTS.iter().filter(|e| which(e)) {
        for &attack in ATTACKS {
            count += 1;
            let raw = request(e, attack, &ctx, &mut rng);
            let verdict = match send(&gh.base_url, raw).await {
                Ok(resp) => judge(e, attack, resp.as_ref()).map(|why| {
                    let r = resp.as_ref();
                    let detail = r.map(|r| format!("{} {}", r.status, r.text())).unwrap_or_default();
                    format!("{why}: {}", detail.chars().take(300).collect::<String>())
                }),
                Err(why) => Some(why),
            };
            if let Some(why) = verdict {
                failures.push(format!("{} {} {attack:?}: {why}", e.method, e.path));
            }
        }
    }
    // Random bytes instead of a request at all, and a request line that is not HTTP.
    for raw in [rng.fill(8192), b"GET /\xFF\xFE HTTP/1.1\r\n\r\n".to_vec(), b"\r\n\r\n\r\n".to_vec()] {
        count += 1;
        match send(&gh.base_url, raw).await {
            Ok(Some(r)) if r.status >= 500 => failures.push(format!("garbage: server error {}", r.status)),
            Ok(_) => {}
            Err(why) => failures.push(format!("garbage: {why}")),
        }
    }
    let live = reqwest::get(gh.url("/health/live")).await.map(|r| r.status().as_u16());
    assert_eq!(live.ok(), Some(200), "the server did not survive the bad input:\n{}", gh.stderr());
    let stderr = gh.stderr();
    assert!(!stderr.contains("panicked"), "the server panicked:\n{stderr}");
    assert!(
        failures.is_empty(),
        "{} of {count} requests answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_bad_input_with_a_4xx_in_its_shape_sqlite() {
    run(Backend::Sqlite, |_| true).await;
}

/// The JSON endpoints again on PostgreSQL, where the store's errors differ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_endpoints_answer_bad_input_with_a_4xx_in_their_shape_postgres() {
    run(Backend::Postgres, |e| matches!(e.shape, OAuth | Api | Bearer)).await;
}
