//! "My Profile" (first-edition guide, step 16; 311 guide, steps 8–9), for a signed-in citizen:
//!
//! ```text
//! GET  /profile           "My Profile", "Profile information": Name, Given name, Family name,
//!                         Email, Phone number; "Edit profile info", "Change password",
//!                         "Delete profile", "Sign out"
//! GET  /profile/edit      "Given name", "Family name", "Display name", "Phone number", "Save"
//! POST /profile/edit      problems → the form again, each beside its field, nothing stored;
//!                         otherwise stored, audited, back to /profile
//! GET  /profile/password  "Current password", "New password", "Repeat password", the rules, "Save"
//! POST /profile/password  changed; every other session ended; audited (password.rs)
//! GET  /profile/delete    "This deletes your profile and signs you out everywhere. …"
//! POST /profile/delete    audited, deleted, cookie cleared: "Your profile was deleted"
//! GET  /profile/portals   "Connected portals": each portal, what it can see, since when, whether
//!                         it can keep you signed in, "Remove access" (portals.rs)
//! POST /profile/portals/remove  its consent deleted and grants revoked; audited
//! ```
//!
//! Every page needs a live browser session; without one it is a 303 to `/signin` carrying the
//! page as `continue`, so signing in comes back here. Every form carries a CSRF token.

mod delete;
mod edit;
mod password;
mod portals;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::flows::session::{citizen, client_ip};
use crate::http::csrf;
use crate::http::error::Failure;
use crate::routes::signin::render;
use crate::state::AppState;

pub const PATH: &str = "/profile";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PATH)
            .app_data(form_config())
            .route("", web::get().to(view))
            .route("/edit", web::get().to(edit::page))
            .route("/edit", web::post().to(edit::submit))
            .route("/password", web::get().to(password::page))
            .route("/password", web::post().to(password::submit))
            .route("/delete", web::get().to(delete::page))
            .route("/delete", web::post().to(delete::submit))
            .route("/portals", web::get().to(portals::page))
            .route("/portals/remove", web::post().to(portals::remove)),
    );
}

fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(16 * 1024).error_handler(|_, _| {
        Failure::page(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            "The form was incomplete. Please try again.",
        )
        .with_back(PATH.into())
        .into()
    })
}

/// To the sign-in, which returns to `page` (one of this module's paths) afterwards.
fn to_sign_in(page: &str) -> HttpResponse {
    see_other(&format!("/signin?continue={page}"))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// "My Profile". Unset fields show as "Not provided".
#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    csrf: &'a str,
    name: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    email: &'a str,
    phone_number: &'a str,
}

async fn view(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let Some(me) = citizen(&req, &state, AppState::now()).await? else {
        return Ok(to_sign_in(PATH));
    };
    let (token, builder) = csrf::forms::page(&req, &state);
    let a = &me.account;
    let page = ProfilePage {
        csrf: &token,
        name: a.name.as_deref().unwrap_or(""),
        given_name: a.given_name.as_deref().unwrap_or(""),
        family_name: a.family_name.as_deref().unwrap_or(""),
        email: a.email.as_str(),
        phone_number: a.phone_number.as_deref().unwrap_or(""),
    };
    render(builder, &page)
}
