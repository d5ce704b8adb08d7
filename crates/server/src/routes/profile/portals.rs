//! "Connected portals" (ASVS 5.0 10.4.9, 10.7.3): every portal the citizen has allowed or that
//! can keep them signed in, with what it may see, since when, and "Remove access".
//!
//! ```text
//! GET  /profile/portals         the list (flows::portals::list)
//! POST /profile/portals/remove  client_id: its consent deleted, its grants revoked, audited;
//!                               "Access removed". Not a connected portal: a page saying so.
//! ```

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{PATH, citizen, client_ip, to_sign_in};
use crate::flows::portals::{self, Removal};
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages;
use crate::routes::signin::render;
use crate::state::AppState;

pub const PORTALS: &str = "/profile/portals";

/// One portal as the page shows it.
struct Row {
    client_id: String,
    name: String,
    scopes: Vec<&'static str>,
    since: String,
    keeps_signed_in: bool,
}

#[derive(Template)]
#[template(path = "profile_portals.html")]
struct PortalsPage<'a> {
    csrf: &'a str,
    portals: &'a [Row],
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let Some(me) = citizen(&req, &state, AppState::now()).await? else {
        return Ok(to_sign_in(PORTALS));
    };
    let rows: Vec<Row> = portals::list(&state, &me)
        .await?
        .into_iter()
        .map(|p| Row {
            scopes: p.described_scopes(),
            since: pages::date_words(p.since),
            keeps_signed_in: p.keeps_signed_in,
            client_id: p.client_id.as_str().to_owned(),
            name: p.name,
        })
        .collect();
    let (token, builder) = csrf::forms::page(&req, &state);
    render(builder, &PortalsPage { csrf: &token, portals: &rows })
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form.csrf, PORTALS.into())?;
    let Some(me) = citizen(&req, &state, AppState::now()).await? else {
        return Ok(to_sign_in(PATH));
    };
    let portal = match portals::remove(&state, &me, &form.client_id, client_ip(&req)).await? {
        Removal::Removed(portal) => portal,
        Removal::NotConnected => {
            return Err(Failure::page(
                StatusCode::NOT_FOUND,
                "Portal not found",
                "This portal is not connected to your account, or its access was already removed.",
            )
            .with_back(PORTALS.into()));
        }
    };
    let removed = format!("{} can no longer use your account.", portal.name);
    render(
        HttpResponse::Ok(),
        &pages::Message {
            title: "Access removed",
            lines: &[
                removed.as_str(),
                "If you sign in to it again, it will ask for your permission again where it needs it.",
            ],
            link: Some((PORTALS, "Back to Connected portals")),
        },
    )
}
