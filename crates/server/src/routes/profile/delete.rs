//! "Delete profile" (first-edition guide, step 16): a confirmation page, then the account and
//! everything that hangs off it go, and this browser is signed out. The audit event is written
//! first, so the trail says who deleted the account even though the account is gone.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{PATH, citizen, client_ip, to_sign_in};
use crate::flows;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::render;
use crate::routes::signout::clear_session_cookie;
use crate::state::AppState;

const DELETE: &str = "/profile/delete";

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "profile_delete.html")]
struct DeletePage<'a> {
    csrf: &'a str,
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    if citizen(&req, &state, AppState::now()).await?.is_none() {
        return Ok(to_sign_in(DELETE));
    }
    let (token, builder) = csrf::forms::page(&req, &state);
    render(builder, &DeletePage { csrf: &token })
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form.csrf, DELETE.into())?;
    let now = AppState::now();
    let Some(me) = citizen(&req, &state, now).await? else {
        return Ok(to_sign_in(PATH));
    };
    flows::profile::delete(&state, me, client_ip(&req)).await?;
    let mut builder = HttpResponse::Ok();
    builder.cookie(clear_session_cookie(&state));
    render(
        builder,
        &pages::Message {
            title: "Your profile was deleted",
            lines: &[
                "Your profile and sign-in details are gone, and you have been signed out everywhere.",
                "You can sign up again with the same email address at any time.",
            ],
            link: None,
        },
    )
}
