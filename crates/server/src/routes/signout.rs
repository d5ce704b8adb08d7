//! "Sign out": ends this browser's session and clears its cookie. A POST with a CSRF token, so
//! another site cannot sign a citizen out. Other browsers and issued tokens are left alone; the
//! portals of the session are told by back-channel logout (`flows::logout`).

use actix_web::cookie::Cookie;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::flows;
use crate::http::cookies;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::render;
use crate::state::AppState;

pub const PATH: &str = "/signout";

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// A cookie that replaces the session cookie and expires at once.
pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    cookies::build(cookies::Name::Session, String::new(), state.secure_cookies(), Some(0))
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form.csrf, "/profile".into())?;
    flows::logout::end_session(&req, &state, AppState::now()).await?;
    let mut builder = HttpResponse::Ok();
    builder.cookie(clear_session_cookie(&state));
    render(
        builder,
        &pages::Message {
            title: "You are signed out",
            lines: &["You have been signed out of this browser."],
            link: Some(("/signin", "Sign in")),
        },
    )
}
