//! The sign-up's verification link: a page with a button (a mail scanner fetching the link
//! changes nothing), then the account is created — or an imported one claimed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use identity::CompleteRegistration;

use crate::flows;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::TokenForm;
use crate::routes::signin::render;
use crate::state::AppState;

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenForm>,
) -> Result<HttpResponse, Failure> {
    if !flows::signup::link_is_live(&state, &query.token).await? {
        return link_spent();
    }
    let (token, builder) = csrf::forms::page(&req, &state);
    render(builder, &pages::VerifyEmail { csrf: &token, token: &query.token })
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form.csrf, format!("/verify-email?token={}", form.token))?;
    let (title, line) = match flows::signup::verify(&state, &form.token).await? {
        None => return link_spent(),
        Some(CompleteRegistration::Created(_) | CompleteRegistration::Claimed(_)) => {
            ("Your email is verified", "Your account is ready. Sign in with your email address and password.")
        }
        Some(CompleteRegistration::AlreadyActive) => (
            "You already have an account",
            "This email address already has an account. Sign in, or use \"Forgot password?\" to set a new password.",
        ),
    };
    render(HttpResponse::Ok(), &pages::Message { title, lines: &[line], link: Some(("/signin", "Sign in")) })
}

fn link_spent() -> Result<HttpResponse, Failure> {
    render(
        HttpResponse::build(StatusCode::GONE),
        &pages::Message {
            title: "This link has expired",
            lines: &["Verification links work once, for a limited time. Sign up again to get a new one."],
            link: Some(("/signup", "Sign up")),
        },
    )
}
