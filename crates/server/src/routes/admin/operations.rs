//! Signing keys (list, rotate) and the audit trail (filter by account, kind and time).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use identity::AuditKind;
use serde::Deserialize;
use serde_json::json;
use store::AuditFilter;
use tokens::rotation::{RotateWhen, Rotation};

use super::Operator;
use crate::http::error::Failure;
use crate::routes::api::{ApiError, ok};
use crate::state::AppState;

pub async fn keys(_: Operator, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let settings = state.settings.clone();
    let now = AppState::now();
    let listed = state.db(move |s| crate::keys::describe(s, &settings, now)).await?;
    Ok(ok(StatusCode::OK, &listed))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RotateRequest {
    alg: Option<String>,
}

/// Starts a rotation (as `gatehouse keys rotate`); 409 while a rotated-in key is pending.
/// The body is optional: none rotates every algorithm, but one that is not a valid request is
/// a 400, never read as "none" (a mistyped `{"algorithm": "ES256"}` must not rotate both).
pub async fn rotate_keys(
    op: Operator,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Failure> {
    let request: RotateRequest = if body.trim_ascii().is_empty() {
        RotateRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The request body is not valid: {e}"),
            )
        })?
    };
    let algs = match request.alg {
        None => tokens::Algorithm::ALL.to_vec(),
        Some(name) => vec![tokens::Algorithm::parse(&name).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", "alg must be RS256 or ES256")
        })?],
    };
    let (settings, keys, now) = (state.settings.clone(), state.keys.clone(), AppState::now());
    let done = state
        .db(move |s| crate::keys::rotate(s, keys.master(), &settings, &algs, RotateWhen::Now, now))
        .await?;
    let rotated: Vec<_> = done
        .iter()
        .filter_map(|(alg, decision, kid)| match decision {
            Rotation::Rotate { at, retire } => {
                Some(json!({ "alg": alg.as_str(), "kid": kid, "activates_at": at, "retires": retire }))
            }
            _ => None,
        })
        .collect();
    if rotated.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "rotation_pending",
            "a rotated-in key is already waiting to take over: rotate again after it activates",
        )
        .into());
    }
    op.audit(&state, AuditKind::AdminKeysRotated, None, json!({ "rotated": rotated })).await?;
    Ok(ok(StatusCode::OK, &json!({ "rotated": rotated })))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    account_id: Option<String>,
    client_id: Option<String>,
    kind: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<i64>,
}

/// Newest first; at most `limit` (100, ≤ 1000).
pub async fn audit(
    _: Operator,
    state: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, Failure> {
    let q = q.into_inner();
    let filter = AuditFilter {
        account_id: q.account_id,
        client_id: q.client_id,
        kind: q.kind,
        since: q.since,
        until: q.until,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    let events = state.db(move |s| s.audit_events(&filter)).await?;
    let out: Vec<_> = events
        .iter()
        .map(|e| json!({ "id": e.id, "at": e.at, "account_id": e.account_id, "client_id": e.client_id, "kind": e.kind, "ip": e.ip, "detail": e.detail }))
        .collect();
    Ok(ok(StatusCode::OK, &out))
}
