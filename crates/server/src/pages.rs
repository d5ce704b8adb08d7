//! The hosted sign-in pages: askama templates in the wording of the citizens' guides
//! (`../shared/guides/`), server-rendered, usable without JavaScript.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

/// Pages never go in a shared cache, never in a frame, and load nothing from elsewhere.
pub fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ))
        .body(body)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub back: Option<&'a str>,
}

/// Step 2–3 of the identifier-first guide: "Sign in", "Email address", "Keep me signed in", "Next".
#[derive(Template)]
#[template(path = "signin_email.html")]
pub struct SignInEmail<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub keep: bool,
    pub error: Option<&'a str>,
}

/// Step 4: "Verify it's you with a security method". The Email code method joins this list
/// with the self-service work.
#[derive(Template)]
#[template(path = "signin_method.html")]
pub struct SignInMethod<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub keep: bool,
    pub back: &'a str,
}

/// Step 5: "Verify with your password", "Verify", "Forgot password?", "Back to sign in".
#[derive(Template)]
#[template(path = "signin_password.html")]
pub struct SignInPassword<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub keep: bool,
    pub error: Option<&'a str>,
    pub forgot: &'a str,
    pub back: &'a str,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
pub struct SignedIn<'a> {
    pub email: &'a str,
}
