//! The signed-in citizen's connected portals (ASVS 5.0 10.4.9, 10.7.3), as on the profile's
//! "Connected portals" page: list them, remove one (its consent and grants). Audited likewise.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::ConnectedPortal;
use serde::Serialize;

use super::profile::me;
use super::{ApiError, ok};
use crate::flows::portals::{self, Removal};
use crate::flows::session::client_ip;
use crate::http::error::Failure;
use crate::state::AppState;

#[derive(Serialize)]
struct PortalView<'a> {
    client_id: &'a str,
    name: &'a str,
    scopes: &'a [String],
    /// The scopes in the consent page's words.
    access: Vec<&'static str>,
    since: i64,
    keeps_signed_in: bool,
}

#[derive(Serialize)]
struct PortalList<'a> {
    portals: Vec<PortalView<'a>>,
}

fn view_of(p: &ConnectedPortal) -> PortalView<'_> {
    PortalView {
        client_id: p.client_id.as_str(),
        name: &p.name,
        scopes: &p.scopes,
        access: p.described_scopes(),
        since: p.since,
        keeps_signed_in: p.keeps_signed_in,
    }
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let me = me(&req, &state).await?;
    let portals = portals::list(&state, &me).await?;
    Ok(ok(StatusCode::OK, &PortalList { portals: portals.iter().map(view_of).collect() }))
}

/// 204: the portal's consent is deleted and its grants revoked; 404 when it is not connected.
/// The id is read from the path as it is (no `web::Path` extractor, whose failure on a malformed
/// segment would answer outside this API's error shape): an id that is no client is not connected.
pub async fn remove(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let me = me(&req, &state).await?;
    let client_id = req.match_info().query("client_id");
    match portals::remove(&state, &me, client_id, client_ip(&req)).await? {
        Removal::Removed(_) => Ok(HttpResponse::NoContent().finish()),
        Removal::NotConnected => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "This portal is not connected to your account.",
        )
        .into()),
    }
}
