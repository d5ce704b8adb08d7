//! "Edit profile info": the four fields a citizen may change (311 guide, step 9: name, display
//! name, phone number). Every problem is shown beside its field and nothing is stored until
//! there are none; a change is audited by the names of the fields it changed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use identity::{ProfileField, ProfileUpdate, ProfileViolation};
use serde::Deserialize;

use super::{PATH, citizen, client_ip, see_other, to_sign_in};
use crate::flows;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::routes::signin::render;
use crate::state::AppState;

const EDIT: &str = "/profile/edit";

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    phone_number: String,
}

impl EditForm {
    fn get(&self, field: ProfileField) -> &str {
        match field {
            ProfileField::Name => &self.name,
            ProfileField::GivenName => &self.given_name,
            ProfileField::FamilyName => &self.family_name,
            ProfileField::PhoneNumber => &self.phone_number,
        }
    }
}

/// One labelled input.
struct Field {
    /// The input's id and name: the claim name.
    name: &'static str,
    label: &'static str,
    value: String,
    error: Option<String>,
    input_type: &'static str,
    autocomplete: &'static str,
}

#[derive(Template)]
#[template(path = "profile_edit.html")]
struct EditPage<'a> {
    csrf: &'a str,
    fields: Vec<Field>,
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let Some(me) = citizen(&req, &state, AppState::now()).await? else {
        return Ok(to_sign_in(EDIT));
    };
    let (token, builder) = csrf::forms::page(&req, &state);
    let a = &me.account;
    let stored = |f: ProfileField| {
        match f {
            ProfileField::Name => &a.name,
            ProfileField::GivenName => &a.given_name,
            ProfileField::FamilyName => &a.family_name,
            ProfileField::PhoneNumber => &a.phone_number,
        }
        .clone()
        .unwrap_or_default()
    };
    form(builder, &token, stored, &[])
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form_data: web::Form<EditForm>,
) -> Result<HttpResponse, Failure> {
    csrf::forms::check(&req, &state, &form_data.csrf, EDIT.into())?;
    let now = AppState::now();
    let Some(me) = citizen(&req, &state, now).await? else {
        return Ok(to_sign_in(PATH));
    };
    let f = &form_data;
    let update = match ProfileUpdate::parse(&f.name, &f.given_name, &f.family_name, &f.phone_number) {
        Ok(update) => update,
        Err(violations) => {
            let builder = HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY);
            return form(builder, &f.csrf, |field| f.get(field).to_owned(), &violations);
        }
    };
    if !flows::profile::update(&state, &me, update, client_ip(&req)).await? {
        return Ok(to_sign_in(PATH));
    }
    Ok(see_other(PATH))
}

fn form(
    builder: HttpResponseBuilder,
    csrf: &str,
    value: impl Fn(ProfileField) -> String,
    violations: &[ProfileViolation],
) -> Result<HttpResponse, Failure> {
    let fields = ProfileField::ALL
        .into_iter()
        .map(|field| {
            let (input_type, autocomplete) = match field {
                ProfileField::GivenName => ("text", "given-name"),
                ProfileField::FamilyName => ("text", "family-name"),
                ProfileField::Name => ("text", "nickname"),
                ProfileField::PhoneNumber => ("tel", "tel"),
            };
            Field {
                name: field.as_str(),
                label: field.label(),
                value: value(field),
                error: violations.iter().find(|v| v.field == field).map(ToString::to_string),
                input_type,
                autocomplete,
            }
        })
        .collect();
    render(builder, &EditPage { csrf, fields })
}
