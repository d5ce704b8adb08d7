//! The access middleware in process: the id in the response header and on every JSON log line
//! written while the request runs, one access line, no query string and no credentials.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::{App, HttpResponse, test, web};

use super::*;
use crate::settings::LogSettings;

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

async fn handler() -> HttpResponse {
    tracing::warn!("inside the handler");
    HttpResponse::Ok().body("ok")
}

fn json_subscriber(sink: &Captured) -> Box<dyn tracing::Subscriber + Send + Sync> {
    let log = LogSettings { format: "json".into(), level: "debug".into() };
    let sink = sink.clone();
    crate::startup::log_subscriber(&log, move || sink.clone(), false)
}

#[actix_web::test]
async fn every_line_of_a_request_carries_its_id_and_the_id_is_returned() {
    let sink = Captured::default();
    let _guard = tracing::subscriber::set_default(json_subscriber(&sink));
    let app = test::init_service(
        App::new()
            .wrap(actix_web::middleware::from_fn(observe))
            .route("/things/{id}", web::get().to(handler)),
    )
    .await;

    let req = test::TestRequest::get()
        .uri("/things/42?code=SECRET-CODE")
        .insert_header(("X-Request-Id", "lb-7f1c.42"))
        .insert_header(("Authorization", "Bearer SECRET-TOKEN"))
        .insert_header(("Cookie", "gh_session=SECRET-COOKIE"))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.headers().get("x-request-id").unwrap(), "lb-7f1c.42");

    let lines = sink.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        assert_eq!(line["span"]["request_id"], "lb-7f1c.42", "{line}");
    }
    let access = &lines[1];
    assert_eq!(access["target"], "gatehouse::access");
    assert_eq!(access["route"], "/things/{id}");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["status"], 200);
    assert!(access["latency_ms"].as_f64().is_some(), "{access}");
    let all = lines.iter().map(ToString::to_string).collect::<String>();
    assert!(!all.contains("SECRET") && !all.contains("/things/42"), "{all}");
}

#[actix_web::test]
async fn a_missing_or_unsafe_id_is_replaced_and_unknown_paths_are_unmatched() {
    let sink = Captured::default();
    let _guard = tracing::subscriber::set_default(json_subscriber(&sink));
    let app = test::init_service(App::new().wrap(actix_web::middleware::from_fn(observe))).await;

    let resp = test::call_service(&app, test::TestRequest::get().uri("/nowhere").to_request()).await;
    assert_eq!(resp.status(), 404);
    let generated = resp.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let req = test::TestRequest::get()
        .uri("/nowhere")
        .insert_header(("X-Request-Id", "evil\" injected=1"))
        .to_request();
    let resp = test::call_service(&app, req).await;
    let replaced = resp.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&replaced).is_ok() && replaced != generated, "{replaced}");

    let lines = sink.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["span"]["request_id"], generated.as_str());
    assert_eq!(lines[0]["route"], "unmatched");
    assert_eq!(lines[0]["status"], 404);
    assert!(!lines.iter().any(|l| l.to_string().contains("injected")));
}
