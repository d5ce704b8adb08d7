//! Liveness (the process answers) and readiness (the database answers).

use actix_web::{HttpResponse, web};

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    match state.db(|s| s.ping()).await {
        Ok(()) => Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Ok(HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "unavailable" })))
        }
    }
}
