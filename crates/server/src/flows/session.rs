//! Browser sessions: find the one a request's cookie names, start one after a sign-in.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use identity::{Account, NewSession, Session, SessionStore};
use tokens::{OpaqueToken, TokenHash};

use crate::http::cookies;
use crate::http::error::Failure;
use crate::state::AppState;

/// The live session named by the request's cookie, if any: not past its absolute expiry nor
/// its inactivity timeout (`sessions.idle_ttl`). Finding it is a use, recorded at most once a
/// step (`identity::idle`).
pub async fn current(req: &HttpRequest, state: &AppState, now: i64) -> Result<Option<Session>, Failure> {
    let Some(secret) = cookies::value(req, cookies::Name::Session, state.secure_cookies()) else {
        return Ok(None);
    };
    let hash = TokenHash::of(&secret);
    let idle = state.settings.sessions.idle();
    state.db(move |s| s.find_session(&hash, now, &idle)).await
}

/// Who is signed in: the live session and its account.
pub struct Citizen {
    pub session: Session,
    pub account: Account,
}

/// The signed-in citizen, or `None` without a live session (or when the account is gone).
pub async fn citizen(req: &HttpRequest, state: &AppState, now: i64) -> Result<Option<Citizen>, Failure> {
    use identity::AccountStore;
    let Some(session) = current(req, state, now).await? else {
        return Ok(None);
    };
    let id = session.account_id.clone();
    let account = state.db(move |s| s.find_account(&id)).await?;
    Ok(account.map(|account| Citizen { session, account }))
}

/// The client's address for the audit trail: the TCP peer, or what a proxy named in
/// `http.trusted_proxies` put in `Forwarded` or `X-Forwarded-For` (`http/client_ip.rs`).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let state = req.app_data::<actix_web::web::Data<AppState>>()?;
    crate::http::client_ip::of(req, &state.trusted_proxies).map(|ip| ip.to_string())
}

/// Starts a session for `account` and returns its cookie. A session the browser already had is
/// ended first, so a sign-in never inherits an earlier one (session fixation).
pub async fn start(
    req: &HttpRequest,
    state: &AppState,
    account: &Account,
    amr: Vec<String>,
    keep_signed_in: bool,
    now: i64,
) -> Result<Cookie<'static>, Failure> {
    start_with_idp(req, state, account, amr, None, keep_signed_in, now).await
}

/// [`start`], recording the upstream provider (`idp`) that authenticated the citizen.
pub async fn start_with_idp(
    req: &HttpRequest,
    state: &AppState,
    account: &Account,
    amr: Vec<String>,
    idp: Option<String>,
    keep_signed_in: bool,
    now: i64,
) -> Result<Cookie<'static>, Failure> {
    // Its relying parties hear that it ended (Back-Channel Logout §2.5).
    crate::flows::logout::end_session(req, state, now).await?;
    let secret = OpaqueToken::generate();
    let sessions = &state.settings.sessions;
    let ttl = if keep_signed_in { sessions.persistent_ttl } else { sessions.ttl };
    let new = NewSession {
        id: uuid::Uuid::new_v4().to_string(),
        token_hash: secret.hash(),
        account_id: account.id.clone(),
        auth_time: now,
        amr,
        persistent: keep_signed_in,
        created_at: now,
        expires_at: now + ttl,
        idp,
    };
    let event = identity::NewAuditEvent::sign_in_succeeded(
        &account.id,
        &new.amr,
        new.idp.as_deref(),
        client_ip(req),
        now,
    );
    state
        .db(move |s| {
            s.create_session(&new)?;
            identity::AuditStore::record_event(s, &event)
        })
        .await?;
    // "Keep me signed in" makes the cookie outlive the browser; otherwise it ends with it.
    let max_age = keep_signed_in.then_some(ttl);
    Ok(cookies::build(cookies::Name::Session, secret.expose().to_owned(), state.secure_cookies(), max_age))
}
