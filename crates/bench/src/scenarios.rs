//! One function per endpoint under load. Each prepares what its operation needs (a session, a
//! token per connection), then hands [`load::run`] an operation that fails on anything but the
//! expected answer.

use std::sync::{Arc, Mutex};

use crate::fixtures::{self, Accounts, ClientCreds};
use crate::load::{self, Outcome, Shape};
use crate::server::Server;

/// Shared by every operation of a scenario.
struct Ctx {
    http: reqwest::Client,
    base: String,
}

impl Ctx {
    fn new(server: &Server) -> Result<Arc<Ctx>, String> {
        Ok(Arc::new(Ctx { http: fixtures::http_client()?, base: server.base_url.clone() }))
    }
}

/// Reads the whole body (so the connection is reused) and fails on a non-2xx status.
async fn expect_ok(resp: Result<reqwest::Response, reqwest::Error>) -> Result<usize, String> {
    let resp = resp.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(body.len())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// `GET path`, expecting 200.
pub async fn get(server: &Server, shape: Shape, path: &'static str) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    load::run(server, shape, move |_| {
        let ctx = Arc::clone(&ctx);
        async move {
            let len = expect_ok(ctx.http.get(format!("{}{path}", ctx.base)).send().await).await?;
            if len == 0 { Err("empty body".into()) } else { Ok(()) }
        }
    })
    .await
}

/// `client_credentials` at `/token` (RFC 6749 §4.4).
pub async fn client_credentials(
    server: &Server,
    shape: Shape,
    machine: &ClientCreds,
) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    let machine = machine.clone();
    load::run(server, shape, move |_| {
        let (ctx, machine) = (Arc::clone(&ctx), machine.clone());
        async move {
            let resp = ctx
                .http
                .post(format!("{}/token", ctx.base))
                .basic_auth(&machine.id, Some(&machine.secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            expect_ok(resp).await.map(drop)
        }
    })
    .await
}

/// The refresh grant (RFC 6749 §6): each connection rotates its own token family.
pub async fn refresh(
    server: &Server,
    shape: Shape,
    accounts: &Accounts,
    cookie: &str,
) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    let mut families = Vec::with_capacity(shape.connections);
    for _ in 0..shape.connections {
        let first = fixtures::code_flow(
            &ctx.http,
            &server.base_url,
            &accounts.portal,
            cookie,
            "openid offline_access",
        )
        .await?;
        families.push(Mutex::new(fixtures::member(&first, "refresh_token")?));
    }
    let families = Arc::new(families);
    let portal = accounts.portal.clone();
    let base = server.base_url.clone();
    load::run(server, shape, move |connection| {
        let (ctx, families, portal, base) =
            (Arc::clone(&ctx), Arc::clone(&families), portal.clone(), base.clone());
        async move {
            let current = families[connection].lock().map_err(|_| "poisoned")?.clone();
            let resp = ctx
                .http
                .post(format!("{base}/token"))
                .basic_auth(&portal.id, Some(&portal.secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &current)])
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("{status}: {body}"));
            }
            *families[connection].lock().map_err(|_| "poisoned")? = fixtures::member(&body, "refresh_token")?;
            Ok(())
        }
    })
    .await
}

/// `POST /api/v1/signin/password` with the right password, round-robin over the accounts.
pub async fn password_sign_in(server: &Server, shape: Shape, accounts: &Accounts) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    let emails = Arc::new(accounts.emails.clone());
    load::run(server, shape, move |connection| {
        let (ctx, emails) = (Arc::clone(&ctx), Arc::clone(&emails));
        async move {
            let body = serde_json::json!({
                "email": emails[connection % emails.len()],
                "password": fixtures::PASSWORD,
            });
            let resp = ctx.http.post(format!("{}/api/v1/signin/password", ctx.base)).json(&body).send().await;
            expect_ok(resp).await.map(drop)
        }
    })
    .await
}

/// A full code flow for a signed-in session: `/authorize?prompt=none` then the exchange.
pub async fn code_exchange(
    server: &Server,
    shape: Shape,
    accounts: &Accounts,
    cookie: &str,
) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    let (portal, cookie) = (accounts.portal.clone(), cookie.to_owned());
    let server_url = server.base_url.clone();
    load::run(server, shape, move |_| {
        let (ctx, portal, cookie, base) =
            (Arc::clone(&ctx), portal.clone(), cookie.clone(), server_url.clone());
        async move {
            let body = fixtures::code_flow(&ctx.http, &base, &portal, &cookie, "openid email").await?;
            fixtures::member(&body, "id_token").map(drop)
        }
    })
    .await
}

/// `GET /userinfo` with a user's access token (OIDC Core §5.3).
pub async fn userinfo(server: &Server, shape: Shape, access_token: &str) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    let token = access_token.to_owned();
    load::run(server, shape, move |_| {
        let (ctx, token) = (Arc::clone(&ctx), token.clone());
        async move {
            let resp = ctx.http.get(format!("{}/userinfo", ctx.base)).bearer_auth(&token).send().await;
            expect_ok(resp).await.map(drop)
        }
    })
    .await
}

/// `POST /introspect` (RFC 7662) of a user's access token by the portal it was issued to.
pub async fn introspect(
    server: &Server,
    shape: Shape,
    portal: &ClientCreds,
    access_token: &str,
) -> Result<Outcome, String> {
    let ctx = Ctx::new(server)?;
    let (portal, token) = (portal.clone(), access_token.to_owned());
    load::run(server, shape, move |_| {
        let (ctx, portal, token) = (Arc::clone(&ctx), portal.clone(), token.clone());
        async move {
            let resp = ctx
                .http
                .post(format!("{}/introspect", ctx.base))
                .basic_auth(&portal.id, Some(&portal.secret))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
            if body["active"] == true { Ok(()) } else { Err(format!("inactive: {body}")) }
        }
    })
    .await
}
