//! The UserInfo endpoint (OIDC Core §5.3), GET and POST, with a bearer access token
//! (RFC 6750 §2.1 header, or §2.2 form body on POST). Claims follow the granted scopes, and
//! the `userinfo` member of the grant's claims request (OIDC Core §5.5).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use identity::{AccountId, AccountStore, RegistrationStore};
use oauth::{BearerError, ClaimsRequest, ClientId, ClientStore, GrantStore, OAuthError, Profile, Scopes};
use serde::Deserialize;

use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/userinfo";

#[derive(Deserialize)]
pub struct BearerForm {
    access_token: Option<String>,
}

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(16 * 1024).error_handler(|_, _| {
        Failure::Bearer(Some(OAuthError::invalid_request("the request body is not a form"))).into()
    })
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let token = header_token(&req)?;
    userinfo(&state, token).await
}

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Option<web::Form<BearerForm>>,
) -> Result<HttpResponse, Failure> {
    let from_header = header_token(&req)?;
    let from_body = form.and_then(|f| f.into_inner().access_token);
    // RFC 6750 §2: a client MUST NOT use more than one method to transmit the token.
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return Err(Failure::Bearer(Some(OAuthError::invalid_request(
                "send the access token in one place only",
            ))));
        }
        (a, b) => a.or(b),
    };
    userinfo(&state, token).await
}

fn header_token(req: &HttpRequest) -> Result<Option<String>, Failure> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("");
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(Failure::Bearer(Some(OAuthError::invalid_request("use the Bearer authentication scheme")))),
    }
}

async fn userinfo(state: &AppState, token: Option<String>) -> Result<HttpResponse, Failure> {
    claims_for(state, token).await.map_err(Failure::in_json)
}

async fn claims_for(state: &AppState, token: Option<String>) -> Result<HttpResponse, Failure> {
    let token = token.ok_or(Failure::Bearer(None))?;
    let now = AppState::now();
    let keys = state.keys.current();
    let issuer = state.settings.issuer.clone();
    let claims = state
        .db(move |s| match oauth::validate_bearer(s, &keys, &issuer, &token, now) {
            Ok(claims) => Ok(Ok(claims)),
            Err(BearerError::Invalid(reason)) => Ok(Err(reason)),
            Err(BearerError::Store(e)) => Err(e),
        })
        .await?
        .map_err(|reason| Failure::Bearer(Some(OAuthError::invalid_token(reason))))?;

    let scopes = Scopes::parse(&claims.scope)
        .map_err(|_| Failure::Bearer(Some(OAuthError::invalid_token("the token's scope is malformed"))))?;
    // OIDC Core §5.3: the UserInfo endpoint serves tokens granted the openid scope.
    if !scopes.contains("openid") {
        return Err(Failure::Bearer(Some(OAuthError::new(
            oauth::ErrorCode::InsufficientScope,
            "the token lacks the openid scope",
        ))));
    }
    let id = AccountId::from_stored(claims.sub.clone());
    let client_id = ClientId::from_stored(claims.client_id.clone());
    let grant_id = oauth::GrantId::from_stored(claims.gid.clone());
    let (account, attributes, requested, client_scopes) = state
        .db(move |s| {
            let account = s.find_account(&id).map_err(std::io::Error::other)?;
            // Imported attributes only for a client registered to receive them (--claim).
            let client = ClientStore::find_client(s, &client_id).map_err(std::io::Error::other)?;
            let client_scopes = client.as_ref().map(|c| c.scopes.clone()).unwrap_or_default();
            let wanted = client.map(|c| c.extra_claims);
            // OIDC Core §5.5: the claims request the grant was made with.
            let requested = GrantStore::grant_claims(s, &grant_id).map_err(std::io::Error::other)?;
            let attributes = match wanted {
                Some(wanted) if !wanted.is_empty() => {
                    let mut all = s.account_attributes(&id).map_err(std::io::Error::other)?;
                    all.retain(|name, _| wanted.contains(name));
                    all
                }
                _ => Default::default(),
            };
            Ok::<_, std::io::Error>((account, attributes, requested, client_scopes))
        })
        .await?;
    let account = account
        .ok_or_else(|| Failure::Bearer(Some(OAuthError::invalid_token("the account no longer exists"))))?;
    let profile = Profile {
        sub: account.id.as_str().to_owned(),
        name: account.name,
        given_name: account.given_name,
        family_name: account.family_name,
        email: account.email.as_str().to_owned(),
        email_verified: account.email_verified,
        phone_number: account.phone_number,
        updated_at: account.updated_at,
    };
    let mut claims = oauth::userinfo_claims(&scopes, &profile);
    if let Some(requested) = requested.map(|json| ClaimsRequest::from_stored(&json)) {
        let extra = oauth::claims_request::released(&requested.userinfo, &client_scopes, &profile);
        for (name, value) in extra {
            claims.entry(name).or_insert(value);
        }
    }
    for (name, value) in attributes {
        claims.entry(name).or_insert(serde_json::Value::String(value));
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(claims))
}
