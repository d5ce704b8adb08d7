//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2), GET and POST.
//!
//! ```text
//! client_id + redirect_uri ──bad──▶ error page (never a redirect, RFC 6749 §4.1.2.1)
//!        │ ok
//! other parameters ──bad──▶ redirect with error, error_description, state
//!        │ ok
//! browser session? ──yes, fresh enough──▶ code ──▶ redirect_uri?code&state&iss
//!        │ no / prompt=login / max_age passed
//!        ├─ prompt=none ──▶ redirect with login_required
//!        └─ hosted sign-in, which returns here with the same parameters
//! ```

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::{AuthorizationParams, ClientId, SessionDecision};

use crate::flows;
use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/authorize";

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let raw = req.query_string().to_owned();
    authorize(&req, &state, &raw).await
}

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Failure> {
    let raw = String::from_utf8(body.to_vec()).map_err(|_| malformed())?;
    authorize(&req, &state, &raw).await
}

async fn authorize(req: &HttpRequest, state: &AppState, raw: &str) -> Result<HttpResponse, Failure> {
    // A repeated parameter fails here too (RFC 6749 §3.1): we cannot tell which client is meant.
    let params: AuthorizationParams = serde_urlencoded::from_str(raw).map_err(|_| malformed())?;
    let client = match params.client_id.clone() {
        Some(id) => state.db(move |s| oauth::ClientStore::find_client(s, &ClientId::from_stored(id))).await?,
        None => None,
    };
    let redirect_uri = oauth::authorize::resolve_redirect(&params, client.as_ref()).map_err(|e| {
        Failure::page(StatusCode::BAD_REQUEST, "This sign-in link is not valid", e.to_string())
    })?;
    let Some(client) = client else {
        return Err(malformed());
    };
    let issuer = &state.settings.issuer;
    let request = match oauth::authorize::validate(&params, &client, redirect_uri.clone()) {
        Ok(request) => request,
        Err(error) => {
            let to = oauth::authorize::error_redirect(&redirect_uri, &error, params.state.as_deref(), issuer);
            return Ok(found(&to));
        }
    };
    let now = AppState::now();
    let session = flows::session::current(req, state, now).await?;
    match request.decide(session.as_ref().map(|s| s.auth_time), now) {
        SessionDecision::UseSession => {
            let Some(session) = session else {
                return Err(malformed());
            };
            let to = flows::code::issue(state, &request, &session, now).await?;
            Ok(found(&to))
        }
        SessionDecision::ShowSignIn => Ok(found(&sign_in_url(raw, request.login_hint.as_deref()))),
        SessionDecision::Fail(error) => Ok(found(&oauth::authorize::error_redirect(
            &redirect_uri,
            &error,
            request.state.as_deref(),
            issuer,
        ))),
    }
}

/// The hosted sign-in page, carrying this request back to `/authorize` once the citizen has
/// signed in. `prompt=login` and `max_age` are dropped from the return trip: the sign-in just
/// made honours both, and judging them again would loop (`max_age=0` once the clock ticks).
/// The ID token still carries `auth_time` (OIDC Core §3.1.2.1, max_age).
fn sign_in_url(raw: &str, login_hint: Option<&str>) -> String {
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if key == "prompt" {
            let rest: Vec<&str> = value.split(' ').filter(|p| !p.is_empty() && *p != "login").collect();
            if !rest.is_empty() {
                back.append_pair("prompt", &rest.join(" "));
            }
        } else if key != "max_age" {
            back.append_pair(&key, &value);
        }
    }
    let continue_to = format!("{PATH}?{}", back.finish());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("continue", &continue_to);
    if let Some(hint) = login_hint {
        query.append_pair("login_hint", hint);
    }
    format!("/signin?{}", query.finish())
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn malformed() -> Failure {
    Failure::page(
        StatusCode::BAD_REQUEST,
        "This sign-in link is not valid",
        "The portal sent an incomplete or malformed sign-in request. Go back to the portal and try again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_url_drops_prompt_login_and_keeps_the_rest() {
        let url = sign_in_url("client_id=c&prompt=login&max_age=0&state=a%20b", Some("ole@x.org"));
        let query = url.strip_prefix("/signin?").unwrap();
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        assert_eq!(pairs[0], ("continue".into(), "/authorize?client_id=c&state=a+b".into()));
        assert_eq!(pairs[1], ("login_hint".into(), "ole@x.org".into()));
    }

    #[test]
    fn sign_in_url_keeps_other_prompt_values() {
        let url = sign_in_url("prompt=login+consent", None);
        assert!(url.contains("prompt%3Dconsent"), "{url}");
    }
}
