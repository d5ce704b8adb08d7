//! The JSON API under `/api/v1`: every flow of the hosted pages (sign-up, verification, sign-in
//! with a password or an emailed code, forgot password, unlock, profile), for a city that
//! builds its own sign-in UI. Documented in `docs/openapi.json`, served at
//! `/api/v1/openapi.json`. The handlers here and the hosted pages' handlers are both thin: they
//! run the same `flows`.
//!
//! A signed-in citizen is the session cookie, as on the pages, so a UI on the provider's own
//! origin signs in here and then sends the browser to `/authorize`. Cross-site requests cannot
//! use that cookie: every request with a body must be `Content-Type: application/json` (a form
//! on another site cannot send that without a CORS preflight, which this API never grants), and
//! the rest are GET or DELETE, which a foreign page cannot send with the cookie either.
//!
//! Errors are `{"error": code, "message": text}`, plus `fields` (each problem beside its
//! field) or `retry_after` (seconds, also in the `Retry-After` header) where they apply.

mod account;
mod portals;
mod profile;
mod signin;

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::http::error::Failure;

pub const PREFIX: &str = "/api/v1";

/// This API's description, served as is.
const OPENAPI: &str = include_str!("../../../../../docs/openapi.json");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .app_data(json_config())
            .wrap(
                ErrorHandlers::new()
                    .handler(StatusCode::INTERNAL_SERVER_ERROR, server_error_in_json)
                    .handler(StatusCode::TOO_MANY_REQUESTS, too_many_in_json),
            )
            .route("/openapi.json", web::get().to(openapi))
            .route("/password-rules", web::get().to(account::password_rules))
            .route("/signup", web::post().to(account::sign_up))
            .route("/signup/verify", web::post().to(account::verify))
            .route("/password/forgot", web::post().to(account::forgot))
            .route("/password/reset", web::post().to(account::reset))
            .route("/unlock", web::post().to(account::unlock))
            .route("/unlock/confirm", web::post().to(account::unlock_confirm))
            .route("/signin/password", web::post().to(signin::password))
            .route("/signin/code", web::post().to(signin::send_code))
            .route("/signin/code/verify", web::post().to(signin::verify_code))
            .route("/session", web::get().to(signin::session))
            .route("/session", web::delete().to(signin::sign_out))
            .route("/profile", web::get().to(profile::view))
            .route("/profile", web::patch().to(profile::edit))
            .route("/profile", web::delete().to(profile::delete))
            .route("/profile/password", web::post().to(profile::change_password))
            .route("/profile/portals", web::get().to(portals::list))
            .route("/profile/portals/{client_id}", web::delete().to(portals::remove))
            .default_service(web::to(not_found)),
    );
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

async fn not_found() -> Result<HttpResponse, Failure> {
    Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such API endpoint.").into())
}

/// One problem with one field of a request.
#[derive(Debug, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// An error of this API.
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    /// A `WWW-Authenticate` challenge to send with a 401.
    #[serde(skip)]
    pub www_authenticate: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
            www_authenticate: None,
        }
    }

    /// 422 with each problem beside its field.
    pub fn invalid(fields: Vec<FieldProblem>) -> Self {
        let message = "Some fields need attention.";
        Self { fields, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", message) }
    }

    /// 429: mail to this address was asked for a moment ago.
    pub fn too_soon(retry_after: i64) -> Self {
        let message = crate::flows::mail::too_soon(retry_after);
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
        }
    }

    /// 429: over a rate limit (per client address, or the account's sign-in budget).
    pub fn too_many(retry_after: i64) -> Self {
        let message = format!(
            "Too many attempts. Please wait {} and try again.",
            crate::flows::mail::wait_text(retry_after)
        );
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
        }
    }

    /// 410: an emailed link (or its token) was used, expired or never existed.
    pub fn link_expired() -> Self {
        let message = "This link has expired or was already used. Ask for a new one.";
        Self::new(StatusCode::GONE, "link_expired", message)
    }

    /// 401: this needs a signed-in citizen.
    pub fn not_signed_in() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "not_signed_in", "Sign in first.")
    }

    pub fn response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(challenge) = self.www_authenticate {
            builder.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        builder.json(self)
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

/// A successful answer: JSON, never cached (it can carry personal data).
pub fn ok(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// `{"status": status}` with 202 Accepted: work (a mail) continues after the answer.
pub fn accepted(status: &str) -> HttpResponse {
    ok(StatusCode::ACCEPTED, &serde_json::json!({ "status": status }))
}

/// Bodies must be JSON (see the module's note on cross-site requests), small, and well-formed;
/// anything else is a 4xx in this API's error shape.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(16 * 1024).error_handler(|error, _| {
        use actix_web::error::JsonPayloadError;
        let api = match &error {
            JsonPayloadError::ContentType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as application/json.",
            ),
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "The request body is too large.",
                )
            }
            other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The request body is not valid: {other}"),
            ),
        };
        Failure::Api(api).into()
    })
}

/// Internal failures (logged where they happen) answer in this API's shape, not as a page.
pub(crate) fn server_error_in_json<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let body = ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "We could not complete your request. Please try again in a moment.",
    )
    .response();
    let res: ServiceResponse<EitherBody<B>> = ServiceResponse::new(req, body).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// A 429 raised as a page by a shared flow (an account's sign-in budget) answers in this API's
/// shape; one this API already shaped (JSON) passes unchanged.
fn too_many_in_json<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let retry_after = res
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let (req, _) = res.into_parts();
    let res = ServiceResponse::new(req, ApiError::too_many(retry_after).response()).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
