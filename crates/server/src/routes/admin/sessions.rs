//! `DELETE /admin/v1/sessions`: every browser session of every account ends at once, an
//! incident response (OWASP ASVS 5.0 7.4.5). `flows/end_sessions.rs` has the rules: batches,
//! back-channel logouts, the audit event, and what is not revoked.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::Operator;
use crate::http::error::Failure;
use crate::routes::api::ok;
use crate::state::AppState;

/// Answers `{"sessions_ended": N, "backchannel_logouts": M}`. The work and its audit event run
/// together on the blocking pool, so they finish even if the operator's connection drops.
pub async fn end_all(op: Operator, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let (ip, now) = (op.ip.clone(), AppState::now());
    let ended = state.db(move |s| crate::flows::end_sessions::all(s, ip, now)).await?;
    if ended.logouts_queued > 0 {
        state.backchannel_waker.notify_one();
    }
    Ok(ok(StatusCode::OK, &crate::flows::end_sessions::detail(ended)))
}
