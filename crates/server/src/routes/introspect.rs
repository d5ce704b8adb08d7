//! The introspection endpoint (RFC 7662) for confidential clients and the APIs registered as
//! such. The answer is `{"active": false}` for anything the caller may not see (§2.2); errors
//! are RFC 6749 §5.2 JSON, 401 for a client that failed to authenticate (§2.3).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::{TokenGrantError, TokenHintParams};

use crate::http::client_auth;
use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/introspect";

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenHintParams>,
) -> Result<HttpResponse, Failure> {
    introspect(&req, &state, form.into_inner()).await.map_err(Failure::in_json)
}

async fn introspect(
    req: &HttpRequest,
    state: &AppState,
    params: TokenHintParams,
) -> Result<HttpResponse, Failure> {
    let client = client_auth::authenticate(req, state, params.credentials()).await?;
    let now = AppState::now();
    let keys = state.keys.current();
    let issuer = state.settings.issuer.clone();
    let store = state.store.clone();
    let outcome = web::block(move || oauth::introspect(&store, &keys, &issuer, &client, &params, now))
        .await
        .map_err(Failure::internal)?;
    match outcome {
        Ok(introspection) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(introspection)),
        Err(TokenGrantError::OAuth(error)) => Err(Failure::token(error)),
        Err(other) => Err(Failure::internal(other)),
    }
}
