//! "Don't have an account? Sign up": email, names, password (the rules listed before the
//! citizen types) → "Email sent!" → the verification link (routes/verify.rs). Every problem is
//! shown beside its field at once; a valid form always gets the same answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use identity::{FieldError, SignUpForm};
use serde::Deserialize;

use crate::flows;
use crate::flows::signup::SignUp;
use crate::http::csrf;
use crate::http::error::Failure;
use crate::pages::{self, SignUpField};
use crate::routes::signin::{ContinueQuery, back_to_sign_in, render, safe_continue};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Form {
    csrf: String,
    #[serde(rename = "continue")]
    continue_to: String,
    email: String,
    given_name: String,
    family_name: String,
    password: String,
    repeat: String,
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ContinueQuery>,
) -> Result<HttpResponse, Failure> {
    let (token, builder) = csrf::forms::page(&req, &state);
    let form = Form { email: query.email().to_owned(), ..Form::default() };
    form_page(builder, &state, &token, query.continue_to(), &form, &[])
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Form>,
) -> Result<HttpResponse, Failure> {
    let continue_to = safe_continue(Some(&form.continue_to));
    let back = back_to_sign_in(continue_to);
    csrf::forms::check(&req, &state, &form.csrf, back.clone())?;
    let typed = SignUpForm {
        email: form.email.clone(),
        given_name: form.given_name.clone(),
        family_name: form.family_name.clone(),
        password: form.password.clone(),
        repeat: form.repeat.clone(),
    };
    match flows::signup::start(&state, &typed).await? {
        SignUp::Sent(email) => render(
            HttpResponse::Ok(),
            &pages::EmailSent {
                email: email.as_str(),
                purpose: "verifying your email address to finish signing up",
                back: &back,
            },
        ),
        SignUp::Invalid(errors) => {
            let builder = HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY);
            form_page(builder, &state, &form.csrf, continue_to, &form, &errors)
        }
        SignUp::TooSoon { retry_after } => {
            let errors = [FieldError { field: "email", message: flows::mail::too_soon(retry_after) }];
            let builder = HttpResponse::build(StatusCode::TOO_MANY_REQUESTS);
            form_page(builder, &state, &form.csrf, continue_to, &form, &errors)
        }
    }
}

fn form_page(
    builder: actix_web::HttpResponseBuilder,
    state: &AppState,
    csrf: &str,
    continue_to: &str,
    form: &Form,
    errors: &[FieldError],
) -> Result<HttpResponse, Failure> {
    let errors_for = |name: &str| {
        errors.iter().filter(|e| e.field == name).map(|e| e.message.as_str()).collect::<Vec<_>>()
    };
    let field = |name, label, kind, autocomplete, value| SignUpField {
        name,
        label,
        kind,
        autocomplete,
        value,
        errors: errors_for(name),
    };
    let fields = vec![
        field("email", "Email address", "email", "username", form.email.as_str()),
        field("given_name", "First name", "text", "given-name", form.given_name.as_str()),
        field("family_name", "Last name", "text", "family-name", form.family_name.as_str()),
        field("password", "Password", "password", "new-password", ""),
        field("repeat", "Repeat password", "password", "new-password", ""),
    ];
    let rules = state.password_rules.rules();
    let back = back_to_sign_in(continue_to);
    render(builder, &pages::SignUp { csrf, continue_to, fields, rules: &rules, back: &back })
}
