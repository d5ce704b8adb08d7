//! The revocation endpoint (RFC 7009). The client authenticates as at the token endpoint; a
//! public client names itself with client_id (§2.1, §5). The answer is 200 whether or not there
//! was anything to revoke (§2.2); errors are RFC 6749 §5.2 JSON (§2.2.1), mapped in
//! `http::error`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth::{TokenGrantError, TokenHintParams};

use crate::http::client_auth;
use crate::http::error::Failure;
use crate::state::AppState;

pub const PATH: &str = "/revoke";

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<TokenHintParams>,
) -> Result<HttpResponse, Failure> {
    revoke(&req, &state, form.into_inner()).await.map_err(Failure::in_json)
}

async fn revoke(
    req: &HttpRequest,
    state: &AppState,
    params: TokenHintParams,
) -> Result<HttpResponse, Failure> {
    let client = client_auth::authenticate(req, state, params.credentials()).await?;
    let now = AppState::now();
    let keys = state.keys.current();
    let issuer = state.settings.issuer.clone();
    let store = state.store.clone();
    let event = identity::NewAuditEvent::token_revoked(
        client.id.as_str(),
        crate::flows::session::client_ip(req),
        now,
    );
    let outcome = web::block(move || oauth::revoke(&store, &keys, &issuer, &client, &params, now))
        .await
        .map_err(Failure::internal)?;
    match outcome {
        Ok(revocation) => {
            tracing::debug!(?revocation, "revocation request");
            if matches!(revocation, oauth::Revocation::Revoked) {
                state.db(move |s| identity::AuditStore::record_event(s, &event)).await?;
            }
            Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish())
        }
        Err(TokenGrantError::OAuth(error)) => Err(Failure::token(error)),
        Err(other) => Err(Failure::internal(other)),
    }
}
