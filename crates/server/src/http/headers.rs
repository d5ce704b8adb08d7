//! Security headers on every response: pages, JSON, redirects and errors alike. A response
//! that set its own value keeps it (the pages' CSP, the form_post page's script hash); the rest
//! get the strictest policy, which suits JSON and redirects since they render nothing.
//! CORS is not here: only the routes wrapped by `routes::cross_origin` send
//! `Access-Control-Allow-Origin`.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

use crate::settings::Settings;

/// The CSP of a response that did not choose one: nothing may load, run or frame it.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// HSTS for two years, this host and its subdomains (RFC 6797 §6.1). Not `preload`: that is
/// a decision for the city's whole domain.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The middleware. HSTS only when the issuer is https: a browser ignores it over plain http
/// (RFC 6797 §8.1) and a development setup on http must not pin anything.
pub fn security(settings: &Settings) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, DEFAULT_CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"));
    if settings.issuer.starts_with("https://") {
        headers.add((header::STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        headers
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    async fn headers_for(issuer: &str, own_csp: bool) -> actix_web::http::header::HeaderMap {
        let settings = Settings { issuer: issuer.into(), ..Settings::default() };
        let app = test::init_service(App::new().wrap(security(&settings)).route(
            "/",
            web::get().to(move || async move {
                let mut response = HttpResponse::Found();
                if own_csp {
                    response.insert_header((header::CONTENT_SECURITY_POLICY, "script-src 'sha256-x'"));
                }
                response.finish()
            }),
        ))
        .await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        response.headers().clone()
    }

    #[actix_web::test]
    async fn every_response_gets_the_headers_and_hsts_only_over_https() {
        let plain = headers_for("http://127.0.0.1:8080", false).await;
        assert_eq!(plain.get(header::CONTENT_SECURITY_POLICY).unwrap(), DEFAULT_CSP);
        assert_eq!(plain.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
        assert_eq!(plain.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert!(plain.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        let tls = headers_for("https://id.example.org", false).await;
        assert_eq!(tls.get(header::STRICT_TRANSPORT_SECURITY).unwrap(), HSTS);
    }

    #[actix_web::test]
    async fn a_response_keeps_its_own_csp() {
        let own = headers_for("http://127.0.0.1:8080", true).await;
        assert_eq!(own.get(header::CONTENT_SECURITY_POLICY).unwrap(), "script-src 'sha256-x'");
    }
}
