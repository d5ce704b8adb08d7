//! The outermost middleware: gives each request an id ([`request_id`](super::request_id)) and a
//! tracing span carrying it, so every line logged while handling the request names it; returns
//! the id in `X-Request-Id`; counts the request in the metrics; and writes one access line.
//!
//! The access line names the method, the route pattern (never the raw path, never the query:
//! codes, tokens and emailed links travel there), the status and the latency. Headers are
//! never logged (Authorization and Cookie carry credentials). Health probes and scrapes are
//! logged at `debug`, everything else at `info`, under the target `gatehouse::access`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::{metrics, request_id};

/// Routes polled by machines; their access lines are `debug`.
const QUIET_ROUTES: [&str; 3] = ["/health/live", "/health/ready", crate::routes::METRICS_PATH];

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id::accept(req.headers().get(request_id::HEADER).map(HeaderValue::as_bytes));
    // `client_id` is filled in by client authentication (`client_auth.rs`), so the access line
    // of a token, revocation, introspection or PAR request names the client.
    let span = tracing::info_span!("request", request_id = %id, client_id = tracing::field::Empty);
    let method = req.method().clone();
    let route = req.match_pattern();
    let started = Instant::now();

    // Handlers' and extractors' errors are already responses here; an `Err` can only come from
    // an inner middleware. It is counted and logged too, and actix answers it without our header
    // (the request cannot be kept to build a response: cloning it would break routing).
    let outcome = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    }
    .as_u16();
    metrics::observe_request(&method, route.as_deref(), status, elapsed);

    let route = route.as_deref().unwrap_or(metrics::UNMATCHED);
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    span.in_scope(|| {
        if QUIET_ROUTES.contains(&route) {
            tracing::debug!(target: "gatehouse::access", method = %method, route, status, latency_ms, "request");
        } else {
            tracing::info!(target: "gatehouse::access", method = %method, route, status, latency_ms, "request");
        }
    });
    let mut response = outcome?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HeaderName::from_static(request_id::HEADER), value);
    }
    Ok(response)
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
