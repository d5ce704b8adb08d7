//! `GET /metrics`: Prometheus text exposition (see `http::metrics` for what is counted).
//! Answers 404 when `metrics.enabled` is off, 401 without the configured `metrics.token`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::metrics::{self, Gauges};
use crate::state::AppState;

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings.metrics;
    if !settings.enabled {
        return HttpResponse::NotFound().finish();
    }
    let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    if !metrics::authorized(authorization, &settings.token) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse metrics\""))
            .finish();
    }
    let outbox = match state.db(|s| s.outbox_counts()).await {
        Ok(counts) => Some(counts),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count the outbox");
            None
        }
    };
    let gauges = Gauges {
        hash_waiting: state.hash_pool.waiting(),
        hash_in_flight: state.hash_pool.in_flight(),
        hash_threads: state.hash_pool.threads(),
        outbox,
    };
    HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(metrics::render(&gauges))
}
