//! The admin API under `/admin/v1`, for operators: clients, accounts, sessions, keys and the
//! audit trail. Documented in `docs/openapi-admin.json` (served at `/admin/v1/openapi.json`).
//!
//! Every call needs `Authorization: Bearer <token>`, where SHA-256 of the token is
//! `admin.token_sha256` from the settings (only the hash is configured; `gatehouse admin
//! token` makes a pair). With no hash configured the whole API answers 404. Errors have the
//! JSON API's shape (`routes/api`). Every change is recorded in the audit trail as `admin.*`,
//! with the operator's address and no secret.

mod accounts;
mod clients;
mod operations;
mod sessions;

use std::future::{Ready, ready};

use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlers;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use identity::{AuditKind, AuditStore, NewAuditEvent};

use super::api::ApiError;
use crate::flows::session::client_ip;
use crate::http::error::Failure;
use crate::state::AppState;

pub const PREFIX: &str = "/admin/v1";

const OPENAPI: &str = include_str!("../../../../../docs/openapi-admin.json");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            // Internal failures answer in the API's JSON shape, as under /api/v1.
            .wrap(
                ErrorHandlers::new()
                    .handler(StatusCode::INTERNAL_SERVER_ERROR, super::api::server_error_in_json),
            )
            .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(|error, _| {
                Failure::Api(ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", error.to_string()))
                    .into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                Failure::Api(ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", error.to_string()))
                    .into()
            }))
            .route("/openapi.json", web::get().to(openapi))
            .route("/clients", web::get().to(clients::list))
            .route("/clients", web::post().to(clients::create))
            .route("/clients/{id}", web::get().to(clients::read))
            .route("/clients/{id}", web::patch().to(clients::update))
            .route("/clients/{id}", web::delete().to(clients::delete))
            .route("/clients/{id}/secret", web::post().to(clients::rotate_secret))
            .route("/accounts", web::get().to(accounts::search))
            .route("/accounts/{id}", web::get().to(accounts::read))
            .route("/accounts/{id}", web::delete().to(accounts::delete))
            .route("/accounts/{id}/lock", web::post().to(accounts::lock))
            .route("/accounts/{id}/unlock", web::post().to(accounts::unlock))
            .route("/accounts/{id}/sessions", web::get().to(accounts::sessions))
            .route("/accounts/{id}/sessions", web::delete().to(accounts::end_sessions))
            .route("/sessions", web::delete().to(sessions::end_all))
            .route("/sessions/{id}", web::delete().to(accounts::end_session))
            .route("/keys", web::get().to(operations::keys))
            .route("/keys/rotate", web::post().to(operations::rotate_keys))
            .route("/audit", web::get().to(operations::audit))
            .default_service(web::to(not_found)),
    );
}

/// An authenticated operator: the extractor every handler takes.
pub struct Operator {
    /// The operator's address, for the audit trail.
    ip: Option<String>,
}

impl FromRequest for Operator {
    type Error = Failure;
    type Future = Ready<Result<Operator, Failure>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Operator, Failure> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(Failure::internal(std::io::Error::other("no application state")));
    };
    let configured = &state.settings.admin.token_sha256;
    if configured.is_empty() {
        return Err(disabled());
    }
    let presented = req.headers().get(header::AUTHORIZATION).map(|h| h.as_bytes());
    if !token_matches(presented, configured) {
        let mut error = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send the admin token as a bearer token.",
        );
        error.www_authenticate = Some("Bearer realm=\"gatehouse admin\"");
        return Err(error.into());
    }
    Ok(Operator { ip: client_ip(req) })
}

/// RFC 6750 §2.1 `Bearer <token>` whose SHA-256 is `configured` (hex), compared in constant
/// time.
fn token_matches(authorization: Option<&[u8]>, configured: &str) -> bool {
    let presented = authorization.and_then(|h| match h.iter().position(|b| *b == b' ') {
        Some(i) if h[..i].eq_ignore_ascii_case(b"bearer") => std::str::from_utf8(&h[i + 1..]).ok(),
        _ => None,
    });
    let Some(presented) = presented else {
        return false;
    };
    let digest = tokens::TokenHash::of(presented.trim());
    aws_lc_rs::constant_time::verify_slices_are_equal(
        digest.as_str().as_bytes(),
        configured.to_ascii_lowercase().as_bytes(),
    )
    .is_ok()
}

fn disabled() -> Failure {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "The admin API is not enabled.").into()
}

async fn openapi(state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    if state.settings.admin.token_sha256.is_empty() {
        return Err(disabled());
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(OPENAPI))
}

async fn not_found(_: Operator) -> Result<HttpResponse, Failure> {
    Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such admin endpoint.").into())
}

impl Operator {
    /// Records what the operator did.
    async fn audit(
        &self,
        state: &AppState,
        kind: AuditKind,
        account: Option<&identity::AccountId>,
        detail: serde_json::Value,
    ) -> Result<(), Failure> {
        let event = NewAuditEvent::admin(kind, account, self.ip.clone(), AppState::now(), detail);
        state.db(move |s| s.record_event(&event)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_whose_hash_is_configured_passes() {
        let hash = tokens::TokenHash::of("s3cret-operator-token");
        let configured = hash.as_str();
        assert!(token_matches(Some(b"Bearer s3cret-operator-token"), configured));
        assert!(token_matches(Some(b"bearer s3cret-operator-token"), &configured.to_uppercase()));
        for wrong in [&b"Bearer s3cret-operator-tokeN"[..], b"Basic s3cret-operator-token", b"Bearer", b""] {
            assert!(!token_matches(Some(wrong), configured), "{}", String::from_utf8_lossy(wrong));
        }
        assert!(!token_matches(None, configured));
    }
}
