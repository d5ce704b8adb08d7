//! The signed-in citizen's profile: read, edit (PATCH: the fields sent change, the rest stay),
//! change the password, delete. Each change is audited, as from the hosted pages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use identity::{Account, ProfileField, ProfileUpdate};
use serde::{Deserialize, Serialize};

use super::account::password_problems;
use super::{ApiError, FieldProblem, ok};
use crate::flows;
use crate::flows::profile::PasswordChange;
use crate::flows::session::{Citizen, client_ip};
use crate::http::error::Failure;
use crate::routes::signout::clear_session_cookie;
use crate::state::AppState;

#[derive(Serialize)]
struct ProfileView<'a> {
    sub: &'a str,
    email: &'a str,
    email_verified: bool,
    name: Option<&'a str>,
    given_name: Option<&'a str>,
    family_name: Option<&'a str>,
    phone_number: Option<&'a str>,
}

fn view_of(a: &Account) -> HttpResponse {
    ok(
        StatusCode::OK,
        &ProfileView {
            sub: a.id.as_str(),
            email: a.email.as_str(),
            email_verified: a.email_verified,
            name: a.name.as_deref(),
            given_name: a.given_name.as_deref(),
            family_name: a.family_name.as_deref(),
            phone_number: a.phone_number.as_deref(),
        },
    )
}

pub(super) async fn me(req: &HttpRequest, state: &AppState) -> Result<Citizen, Failure> {
    flows::session::citizen(req, state, AppState::now())
        .await?
        .ok_or_else(|| ApiError::not_signed_in().into())
}

pub async fn view(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    Ok(view_of(&me(&req, &state).await?.account))
}

/// A field left out keeps its value; `""` (or `null`) clears it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    #[serde(default)]
    name: Option<Option<String>>,
    #[serde(default)]
    given_name: Option<Option<String>>,
    #[serde(default)]
    family_name: Option<Option<String>>,
    #[serde(default)]
    phone_number: Option<Option<String>>,
}

pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<EditRequest>,
) -> Result<HttpResponse, Failure> {
    let me = me(&req, &state).await?;
    let a = &me.account;
    let value = |sent: &Option<Option<String>>, stored: &Option<String>| match sent {
        None => stored.clone().unwrap_or_default(),
        Some(new) => new.clone().unwrap_or_default(),
    };
    let update = ProfileUpdate::parse(
        &value(&body.name, &a.name),
        &value(&body.given_name, &a.given_name),
        &value(&body.family_name, &a.family_name),
        &value(&body.phone_number, &a.phone_number),
    )
    .map_err(|violations| {
        ApiError::invalid(
            violations
                .iter()
                .map(|v| FieldProblem { field: field_name(v.field).into(), message: v.to_string() })
                .collect(),
        )
    })?;
    if !flows::profile::update(&state, &me, update, client_ip(&req)).await? {
        return Err(ApiError::not_signed_in().into());
    }
    view(req, state).await
}

fn field_name(field: ProfileField) -> &'static str {
    field.as_str()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// 204 when changed: every other session is ended and the account's tokens revoked.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PasswordRequest>,
) -> Result<HttpResponse, Failure> {
    let me = me(&req, &state).await?;
    let (new, ip) = (&body.new_password, client_ip(&req));
    match flows::profile::change_password(&state, &me, &body.current_password, new, new, ip).await? {
        PasswordChange::Changed => Ok(HttpResponse::NoContent().finish()),
        PasswordChange::WrongCurrent => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_password",
            "The current password is incorrect.",
        )
        .into()),
        PasswordChange::Locked(message) => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "account_locked", message).into())
        }
        PasswordChange::Rejected(errors) => Err(password_problems("new_password", errors).into()),
    }
}

/// 204: the profile and everything hanging off it are gone; this browser is signed out.
pub async fn delete(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let me = me(&req, &state).await?;
    flows::profile::delete(&state, me, client_ip(&req)).await?;
    Ok(HttpResponse::NoContent().cookie(clear_session_cookie(&state)).finish())
}
