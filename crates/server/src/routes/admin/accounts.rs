//! Accounts and their sessions: search by email, read, lock (an operator's lock: every session
//! ends and the account's tokens are revoked), unlock, delete, list sessions, end one, end all
//! of one account without locking it (`flows/end_sessions.rs`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use identity::{AccountId, AccountStore, AuditKind, LockoutStore, ProfileStore, RevocationStore};
use serde::Deserialize;
use serde_json::json;

use super::Operator;
use crate::commands::account_json;
use crate::http::error::Failure;
use crate::routes::api::{ApiError, ok};
use crate::state::AppState;

fn no_such_account() -> Failure {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such account.").into()
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    email: String,
    limit: Option<i64>,
    #[serde(default)]
    offset: i64,
}

/// Accounts whose email contains `email` (any case), by email; at most `limit` (100, ≤ 1000).
pub async fn search(
    _: Operator,
    state: web::Data<AppState>,
    q: web::Query<Search>,
) -> Result<HttpResponse, Failure> {
    let (text, limit, offset) = (q.email.clone(), q.limit.unwrap_or(100).clamp(1, 1000), q.offset.max(0));
    let accounts = state
        .db(move |s| {
            let ids = s.search_accounts(&text, limit, offset)?;
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                found.extend(s.find_account(&id)?);
            }
            Ok::<_, identity::StoreError>(found)
        })
        .await?;
    Ok(ok(StatusCode::OK, &accounts.iter().map(account_json).collect::<Vec<_>>()))
}

async fn view(state: &AppState, id: AccountId) -> Result<serde_json::Value, Failure> {
    let now = AppState::now();
    let idle = state.settings.sessions.idle();
    let (account, lockout, sessions) = state
        .db(move |s| {
            let account = s.find_account(&id)?;
            let lockout = s.lockout_state(&id, now)?;
            let sessions = s.sessions_of(&id, now, &idle)?.len();
            Ok::<_, identity::StoreError>((account, lockout, sessions))
        })
        .await?;
    let account = account.ok_or_else(no_such_account)?;
    let mut out = account_json(&account);
    out["locked"] = json!(lockout.is_locked(now).is_some());
    out["locked_by_operator"] = json!(lockout.operator_locked);
    out["locked_until"] = json!(lockout.is_locked(now).filter(|u| *u != identity::OPERATOR_LOCK));
    out["sessions"] = json!(sessions);
    Ok(out)
}

pub async fn read(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    Ok(ok(StatusCode::OK, &view(&state, AccountId::from_stored(id.into_inner())).await?))
}

/// The id in the path, once the account is known to exist (404 otherwise).
async fn existing(state: &AppState, path: web::Path<String>) -> Result<AccountId, Failure> {
    let id = AccountId::from_stored(path.into_inner());
    let probe = id.clone();
    state.db(move |s| s.find_account(&probe)).await?.ok_or_else(no_such_account)?;
    Ok(id)
}

pub async fn lock(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = existing(&state, id).await?;
    let (target, now) = (id.clone(), AppState::now());
    state
        .db(move |s| {
            s.set_operator_lock(&target, true)?;
            s.revoke_account_access(&target, None, now)
        })
        .await?;
    op.audit(&state, AuditKind::AdminAccountLocked, Some(&id), json!({ "sessions_ended": true })).await?;
    Ok(ok(StatusCode::OK, &view(&state, id).await?))
}

pub async fn unlock(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = existing(&state, id).await?;
    let target = id.clone();
    state.db(move |s| s.set_operator_lock(&target, false)).await?;
    op.audit(&state, AuditKind::AdminAccountUnlocked, Some(&id), json!({})).await?;
    Ok(ok(StatusCode::OK, &view(&state, id).await?))
}

pub async fn delete(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = existing(&state, id).await?;
    op.audit(&state, AuditKind::AdminAccountDeleted, Some(&id), json!({})).await?;
    let target = id.clone();
    state.db(move |s| s.delete_account(&target)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn sessions(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = existing(&state, id).await?;
    let now = AppState::now();
    let idle = state.settings.sessions.idle();
    let sessions = state.db(move |s| s.sessions_of(&id, now, &idle)).await?;
    let out: Vec<_> = sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "auth_time": s.auth_time, "amr": s.amr, "keep_signed_in": s.persistent,
                "created_at": s.created_at, "expires_at": s.expires_at, "last_seen_at": s.last_seen_at,
            })
        })
        .collect();
    Ok(ok(StatusCode::OK, &out))
}

/// `DELETE /accounts/{id}/sessions`: every session of the account ends (its portals hear by
/// back-channel logout); the account stays open and its tokens stand (ASVS 5.0 7.4.5).
pub async fn end_sessions(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = existing(&state, id).await?;
    let (ip, now) = (op.ip.clone(), AppState::now());
    let ended = state.db(move |s| crate::flows::end_sessions::of_account(s, &id, ip, now)).await?;
    if ended.logouts_queued > 0 {
        state.backchannel_waker.notify_one();
    }
    Ok(HttpResponse::NoContent().finish())
}

pub async fn end_session(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = id.into_inner();
    let target = id.clone();
    let now = AppState::now();
    let Some(account) = state.db(move |s| s.end_session_by_id(&target, now)).await? else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such session.").into());
    };
    op.audit(&state, AuditKind::AdminSessionRevoked, Some(&account), json!({ "session_id": id })).await?;
    Ok(HttpResponse::NoContent().finish())
}
