//! The one place where failures become HTTP responses (STYLE.md, "Errors"):
//! - token-class endpoints: RFC 6749 §5.2 JSON with `Cache-Control: no-store`, and 401 with
//!   `WWW-Authenticate` when the client authenticated with the Authorization header;
//! - bearer-protected routes: RFC 6750 §3 `WWW-Authenticate: Bearer error=…`;
//! - the authorization endpoint: a redirect carrying the error (§4.1.2.1), built by the route;
//!   a bad client or redirect URI is a page, never a redirect;
//! - hosted pages: a friendly page.
//!
//! Infrastructure failures are logged with their chain and shown as an opaque error.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use oauth::{ErrorCode, OAuthError};

use crate::pages;

#[derive(Debug)]
pub enum Failure {
    /// An error of the token endpoint (RFC 6749 §5.2).
    Token { error: OAuthError, used_basic: bool },
    /// A refused bearer token (RFC 6750 §3.1). `None`: no token was presented at all.
    Bearer(Option<OAuthError>),
    /// A page for the citizen.
    Page { status: StatusCode, title: String, message: String, back: Option<String> },
    /// An error of the JSON API (`routes/api`).
    Api(crate::routes::api::ApiError),
    /// 429: over a rate limit (`http/limits.rs`, or an account's sign-in budget); a page with
    /// `Retry-After`. The JSON API rewrites it into its own shape (`routes/api`).
    TooManyRequests { retry_after: i64 },
    /// Something broke inside; logged, never detailed to the client.
    Internal(Box<dyn std::error::Error + Send + Sync>),
    /// The same, on an endpoint whose clients read JSON (token, userinfo).
    InternalJson(Box<dyn std::error::Error + Send + Sync>),
}

impl Failure {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    /// For endpoints whose clients read JSON: an internal failure answers `server_error` JSON.
    pub fn in_json(self) -> Self {
        match self {
            Self::Internal(e) => Self::InternalJson(e),
            other => other,
        }
    }

    pub fn token(error: OAuthError) -> Self {
        Self::Token { error, used_basic: false }
    }

    pub fn page(status: StatusCode, title: &str, message: impl Into<String>) -> Self {
        Self::Page { status, title: title.into(), message: message.into(), back: None }
    }

    pub fn with_back(mut self, link: String) -> Self {
        if let Self::Page { back, .. } = &mut self {
            *back = Some(link);
        }
        self
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token { error, .. } => write!(f, "token error: {}", error.code.as_str()),
            Self::Bearer(e) => write!(f, "bearer refused: {:?}", e.as_ref().map(|e| e.code.as_str())),
            Self::Page { title, .. } => write!(f, "page: {title}"),
            Self::Api(e) => write!(f, "api error: {}", e.error),
            Self::TooManyRequests { retry_after } => {
                write!(f, "too many requests: retry after {retry_after} s")
            }
            Self::Internal(e) | Self::InternalJson(e) => write!(f, "internal error: {e}"),
        }
    }
}

/// RFC 6749 §5.2 body; also used by the userinfo endpoint for its JSON errors.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    error_description: &'a str,
}

pub fn oauth_json(status: StatusCode, error: &OAuthError) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(ErrorBody { error: error.code.as_str(), error_description: &error.description })
}

/// Quotes a value for a `WWW-Authenticate` auth-param (RFC 9110 §11.2 quoted-string).
fn quoted(s: &str) -> String {
    s.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect()
}

impl ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Token { error, .. } if error.code == ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::Token { .. } => StatusCode::BAD_REQUEST,
            Self::Bearer(Some(e)) if e.code == ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::Bearer(Some(e)) if e.code == ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            Self::Bearer(_) => StatusCode::UNAUTHORIZED,
            Self::Page { status, .. } => *status,
            Self::Api(e) => e.status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) | Self::InternalJson(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Token { error, used_basic } => {
                let mut response = oauth_json(self.status_code(), error);
                // RFC 6749 §5.2: a client that tried the Authorization header gets a challenge.
                if *used_basic {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"gatehouse\""),
                    );
                }
                response
            }
            Self::Bearer(error) => {
                // RFC 6750 §3.1: no error code when the request carried no token at all.
                let challenge = match error {
                    None => "Bearer realm=\"gatehouse\"".to_owned(),
                    Some(e) => format!(
                        "Bearer realm=\"gatehouse\", error=\"{}\", error_description=\"{}\"",
                        e.code.as_str(),
                        quoted(&e.description)
                    ),
                };
                let mut response = match error {
                    // RFC 6750 §3.1: invalid_request is 400, insufficient_scope 403.
                    Some(e) if e.code == ErrorCode::InvalidRequest => oauth_json(StatusCode::BAD_REQUEST, e),
                    Some(e) if e.code == ErrorCode::InsufficientScope => oauth_json(StatusCode::FORBIDDEN, e),
                    Some(e) => oauth_json(StatusCode::UNAUTHORIZED, e),
                    None => HttpResponse::Unauthorized().finish(),
                };
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            Self::Page { status, title, message, back } => page(*status, title, message, back.as_deref()),
            Self::Api(e) => e.response(),
            Self::TooManyRequests { retry_after } => {
                let message = format!(
                    "There were too many attempts from your connection or for this account. Please wait {} and try again.",
                    crate::flows::mail::wait_text(*retry_after)
                );
                let mut response =
                    page(StatusCode::TOO_MANY_REQUESTS, "Please wait a moment", &message, None);
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            Self::Internal(e) => {
                log_chain(e.as_ref());
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "We could not complete your request. Please try again in a moment.",
                    None,
                )
            }
            Self::InternalJson(e) => {
                log_chain(e.as_ref());
                oauth_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &OAuthError::new(ErrorCode::ServerError, "the server could not complete the request"),
                )
            }
        }
    }
}

fn log_chain(e: &(dyn std::error::Error + 'static)) {
    let mut chain = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %chain, "internal error");
}

fn page(status: StatusCode, title: &str, message: &str, back: Option<&str>) -> HttpResponse {
    let body = pages::ErrorPage { title, message, back }.render().unwrap_or_else(|_| message.to_owned());
    pages::html(HttpResponse::build(status), body)
}
