//! Ending a browser session, by whichever route (RP-initiated `/logout`, the hosted "Sign out",
//! `DELETE /api/v1/session`, a new sign-in replacing the session), and checking an
//! RP-initiated logout request before it ends anything.
//!
//! The session's grants are not revoked: access tokens live minutes, and refresh tokens are
//! only issued for `offline_access`, which Back-Channel Logout 1.0 §2.7 says normally outlives
//! the session ("Refresh tokens issued with the offline_access property normally SHOULD NOT
//! be revoked"). A portal that wants them gone revokes them at `/revoke`.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use oauth::{ClientStore, LogoutError, LogoutParams, LogoutRequest};
use store::EndedSession;
use tokens::TokenHash;

use crate::http::cookies;
use crate::http::error::Failure;
use crate::state::AppState;

/// Ends the session the request's cookie names, queueing the back-channel logouts of the
/// clients that took part in it and waking their worker. `None` without a live session.
/// The caller clears the cookie.
pub async fn end_session(
    req: &HttpRequest,
    state: &AppState,
    now: i64,
) -> Result<Option<EndedSession>, Failure> {
    let Some(secret) = cookies::value(req, cookies::Name::Session, state.secure_cookies()) else {
        return Ok(None);
    };
    let hash = TokenHash::of(&secret);
    // A session that had lapsed (expired, or idle past `sessions.idle_ttl`) is only deleted:
    // nobody signed out of it, so it queues no back-channel logout.
    let idle = state.settings.sessions.idle();
    let ended = state.db(move |s| s.end_session(&hash, now, &idle)).await?;
    if let Some(e) = &ended {
        if e.queued > 0 {
            state.backchannel_waker.notify_one();
        }
        let account = identity::AccountId::from_stored(e.account_id.clone());
        let ip = crate::flows::session::client_ip(req);
        let event = identity::NewAuditEvent::session_ended(&account, &e.session_id, e.queued, ip, now);
        state.db(move |s| identity::AuditStore::record_event(s, &event)).await?;
    }
    Ok(ended)
}

/// Checks an RP-initiated logout request (`oauth::logout`): the hint's signature, the client it
/// names, the post-logout redirect URI. A refusal is a page, never a redirect.
pub async fn prepare(state: &AppState, params: &LogoutParams) -> Result<LogoutRequest, Failure> {
    let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(token) => Some(
            oauth::logout::verify_hint(&state.keys.current(), token, &state.settings.issuer)
                .map_err(refused)?,
        ),
        None => None,
    };
    let named = oauth::logout::named_client(params, hint.as_ref()).map_err(refused)?;
    let client = match named.clone() {
        Some(id) => state.db(move |s| s.find_client(&id)).await?,
        None => None,
    };
    oauth::logout::validate(params, hint, named.as_ref(), client.as_ref()).map_err(refused)
}

fn refused(e: LogoutError) -> Failure {
    Failure::page(StatusCode::BAD_REQUEST, "This sign-out link is not valid", e.to_string())
}
