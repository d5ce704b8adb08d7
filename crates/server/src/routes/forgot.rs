//! "Forgot password?" Until emailed reset links exist, the page says how to get help, as the
//! guides do, instead of leading nowhere.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::pages;
use crate::routes::signin::{ContinueQuery, back_to_sign_in};

pub async fn page(query: web::Query<ContinueQuery>) -> HttpResponse {
    let back = back_to_sign_in(query.continue_to());
    let body = pages::ErrorPage {
        title: "Reset your password",
        message: "To reset your password, contact ATL311.com or 404-546-0311 to create a case.",
        back: Some(&back),
    }
    .render()
    .unwrap_or_default();
    pages::html(HttpResponse::build(StatusCode::OK), body)
}
