//! The last word on error shapes. Some errors are answered by actix itself, before or around a
//! handler: a body over a `PayloadConfig` limit where a handler takes raw bytes (`/authorize`
//! and `/logout` POST, `/par`), a path segment that is not UTF-8 (`/admin/v1/clients/%FF`), a
//! method a route does not take, a path no route matches. Those answers are plain text (or
//! empty); this middleware gives them the shape of the endpoint they were for, through the one
//! mapping in [`super::error`]: RFC 6749 §5.2 JSON at the token-class endpoints, RFC 6750 §3 at
//! userinfo, `{error, message}` under `/api/v1` and `/admin/v1`, a friendly page elsewhere.
//!
//! A response that already has a shape (a JSON or HTML body, or a bearer challenge) is left
//! alone; so is every non-error response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use oauth::{ErrorCode, OAuthError};

use super::error::Failure;
use crate::routes::api::ApiError;

/// Endpoints whose errors are RFC 6749 §5.2 JSON.
const TOKEN_CLASS: [&str; 4] = ["/token", "/revoke", "/introspect", "/par"];

pub async fn reshape(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || has_shape(&response) {
        return Ok(response.map_into_left_body());
    }
    let (req, _) = response.into_parts();
    let shaped = shape(req.path(), status);
    Ok(ServiceResponse::new(req, shaped).map_into_right_body())
}

fn has_shape<B>(response: &ServiceResponse<B>) -> bool {
    let headers = response.headers();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    content_type.starts_with("application/json")
        || content_type.starts_with("text/html")
        || headers.contains_key(header::WWW_AUTHENTICATE)
}

/// The answer for `status` in the shape of the endpoint at `path`.
fn shape(path: &str, status: StatusCode) -> HttpResponse {
    let message = message(status);
    let failure = if status.is_server_error() {
        let error = std::io::Error::other(format!("{status} answered by the framework"));
        if TOKEN_CLASS.contains(&path) || path == "/userinfo" {
            Failure::InternalJson(Box::new(error))
        } else if path.starts_with("/api/") || path.starts_with("/admin/") {
            Failure::Api(ApiError::new(status, "server_error", message))
        } else {
            Failure::Internal(Box::new(error))
        }
    } else if TOKEN_CLASS.contains(&path) {
        // RFC 6749 §5.2: invalid_request, with 400 "unless specified otherwise".
        Failure::token(OAuthError::invalid_request(message))
    } else if path == "/userinfo" {
        // RFC 6750 §3.1: invalid_request for a malformed request.
        Failure::Bearer(Some(OAuthError::new(ErrorCode::InvalidRequest, message)))
    } else if path.starts_with("/api/") || path.starts_with("/admin/") {
        Failure::Api(ApiError::new(status, api_code(status), message))
    } else {
        Failure::page(status, "Something went wrong", message)
    };
    failure.error_response()
}

fn api_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid_request",
    }
}

fn message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "There is no such page.",
        StatusCode::METHOD_NOT_ALLOWED => "This address does not take that kind of request.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request is too large.",
        StatusCode::URI_TOO_LONG | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "The request's address or headers are too long."
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The request's content type is not accepted here.",
        s if s.is_server_error() => "We could not complete your request. Please try again in a moment.",
        _ => "The request was malformed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: HttpResponse) -> (StatusCode, String, serde_json::Value) {
        let status = response.status();
        let ctype = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let bytes = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
        (status, ctype, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[actix_web::test]
    async fn each_area_gets_its_own_error_shape() {
        let (status, ctype, json) = body(shape("/par", StatusCode::PAYLOAD_TOO_LARGE)).await;
        assert_eq!((status, json["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
        assert!(ctype.starts_with("application/json"));

        let (status, _, json) = body(shape("/admin/v1/clients/x", StatusCode::NOT_FOUND)).await;
        assert_eq!((status, json["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
        assert!(json["message"].is_string());

        let (status, ctype, _) = body(shape("/authorize", StatusCode::PAYLOAD_TOO_LARGE)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(ctype.starts_with("text/html"), "{ctype}");

        let response = shape("/userinfo", StatusCode::PAYLOAD_TOO_LARGE);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
