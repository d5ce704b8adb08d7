//! Clients: list, create, read, update, rotate the secret, delete. Creating and updating run
//! the same registration rules as `gatehouse client create`; an update keeps the client's id,
//! secret, kind (public or confidential) and token_endpoint_auth_method.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use identity::AuditKind;
use oauth::{Client, ClientId, ClientRegistration, ClientStore};
use serde::Deserialize;
use serde_json::json;

use super::Operator;
use crate::commands::client_json;
use crate::http::error::Failure;
use crate::routes::api::{ApiError, ok};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ClientFields {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    public: Option<bool>,
    grant_types: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    id_token_signed_response_alg: Option<String>,
    extra_claims: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    refresh_token_idle_ttl: Option<i64>,
    refresh_token_absolute_ttl: Option<i64>,
    backchannel_logout_uri: Option<String>,
    third_party: Option<bool>,
    require_par: Option<bool>,
    /// OIDC Core §9; fixed at creation, like `public`.
    token_endpoint_auth_method: Option<String>,
    /// private_key_jwt keys by value: a JWKS document (an object, RFC 7517 §5).
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
}

impl ClientFields {
    /// The registration these fields describe, on top of `base`.
    fn over(self, base: ClientRegistration) -> ClientRegistration {
        ClientRegistration {
            name: self.name.unwrap_or(base.name),
            redirect_uris: self.redirect_uris.unwrap_or(base.redirect_uris),
            post_logout_redirect_uris: self
                .post_logout_redirect_uris
                .unwrap_or(base.post_logout_redirect_uris),
            public: self.public.unwrap_or(base.public),
            grant_types: self.grant_types.unwrap_or(base.grant_types),
            scopes: self.scopes.unwrap_or(base.scopes),
            id_token_signed_response_alg: self
                .id_token_signed_response_alg
                .or(base.id_token_signed_response_alg),
            extra_claims: self.extra_claims.unwrap_or(base.extra_claims),
            audiences: self.audiences.unwrap_or(base.audiences),
            refresh_token_idle_ttl: self.refresh_token_idle_ttl.or(base.refresh_token_idle_ttl),
            refresh_token_absolute_ttl: self.refresh_token_absolute_ttl.or(base.refresh_token_absolute_ttl),
            backchannel_logout_uri: self.backchannel_logout_uri.or(base.backchannel_logout_uri),
            third_party: self.third_party.unwrap_or(base.third_party),
            require_par: self.require_par.unwrap_or(base.require_par),
            token_endpoint_auth_method: self.token_endpoint_auth_method.or(base.token_endpoint_auth_method),
            // New keys replace the registered ones, by value or by reference.
            jwks: self.jwks.as_ref().map(serde_json::Value::to_string).or(if self.jwks_uri.is_some() {
                None
            } else {
                base.jwks
            }),
            jwks_uri: self.jwks_uri.clone().or(if self.jwks.is_some() { None } else { base.jwks_uri }),
        }
    }
}

/// What a stored client was registered with.
fn registration_of(c: &Client) -> ClientRegistration {
    ClientRegistration {
        name: c.name.clone(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        public: c.is_public(),
        grant_types: c.grant_types.clone(),
        scopes: c.scopes.clone(),
        id_token_signed_response_alg: Some(c.id_token_signed_response_alg.clone()),
        extra_claims: c.extra_claims.clone(),
        audiences: c.audiences.clone(),
        refresh_token_idle_ttl: c.refresh_token_idle_ttl,
        refresh_token_absolute_ttl: c.refresh_token_absolute_ttl,
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
        third_party: !c.first_party,
        require_par: c.require_pushed_authorization_requests,
        token_endpoint_auth_method: Some(c.token_endpoint_auth_method.clone()),
        jwks: c.keys.jwks.clone(),
        jwks_uri: c.keys.jwks_uri.clone(),
    }
}

fn invalid(e: oauth::RegistrationError) -> Failure {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_client_metadata", e.to_string()).into()
}

fn no_such_client() -> Failure {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "There is no such client.").into()
}

async fn find(state: &AppState, id: String) -> Result<Client, Failure> {
    let id = ClientId::from_stored(id);
    state.db(move |s| s.find_client(&id)).await?.ok_or_else(no_such_client)
}

pub async fn list(_: Operator, state: web::Data<AppState>) -> Result<HttpResponse, Failure> {
    let clients = state.db(|s| s.list_clients()).await?;
    Ok(ok(StatusCode::OK, &clients.iter().map(client_json).collect::<Vec<_>>()))
}

pub async fn create(
    op: Operator,
    state: web::Data<AppState>,
    body: web::Json<ClientFields>,
) -> Result<HttpResponse, Failure> {
    let registration = body.into_inner().over(ClientRegistration::default());
    let (mut client, secret) = oauth::client::register(registration, AppState::now()).map_err(invalid)?;
    if let Some(secret) = &secret {
        oauth::seal_client_secret(&mut client, secret, &state.master);
    }
    let stored = client.clone();
    state.db(move |s| s.insert_client(&stored)).await?;
    op.audit(&state, AuditKind::AdminClientCreated, None, json!({ "client_id": client.id })).await?;
    let mut out = client_json(&client);
    out["client_secret"] = secret.map_or(serde_json::Value::Null, |s| s.expose().into());
    Ok(ok(StatusCode::CREATED, &out))
}

pub async fn read(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    Ok(ok(StatusCode::OK, &client_json(&find(&state, id.into_inner()).await?)))
}

pub async fn update(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ClientFields>,
) -> Result<HttpResponse, Failure> {
    let existing = find(&state, id.into_inner()).await?;
    let fields = body.into_inner();
    let method_changes =
        fields.token_endpoint_auth_method.as_ref().is_some_and(|m| *m != existing.token_endpoint_auth_method);
    if method_changes {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_metadata",
            "a client cannot change its token_endpoint_auth_method: register a new one",
        )
        .into());
    }
    if fields.public.is_some_and(|public| public != existing.is_public()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_metadata",
            "a client cannot change between public and confidential: register a new one",
        )
        .into());
    }
    let (checked, _) = oauth::client::register(fields.over(registration_of(&existing)), existing.created_at)
        .map_err(invalid)?;
    let updated = Client {
        id: existing.id.clone(),
        secret_hash: existing.secret_hash.clone(),
        token_endpoint_auth_method: existing.token_endpoint_auth_method.clone(),
        keys: oauth::ClientKeys {
            sealed_secret: existing.keys.sealed_secret.clone(),
            ..checked.keys.clone()
        },
        created_at: existing.created_at,
        ..checked
    };
    let stored = updated.clone();
    if !state.db(move |s| s.update_client(&stored)).await? {
        return Err(no_such_client());
    }
    state.clients.forget(&updated.id);
    op.audit(&state, AuditKind::AdminClientUpdated, None, json!({ "client_id": updated.id })).await?;
    Ok(ok(StatusCode::OK, &client_json(&updated)))
}

/// A new secret, shown once; the old one stops working at once on this node, and on the others
/// within `database.client_cache_secs` (`http/client_cache.rs`).
pub async fn rotate_secret(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let existing = find(&state, id.into_inner()).await?;
    if existing.is_public() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "public_client",
            "a public client has no secret (it authenticates with PKCE)",
        )
        .into());
    }
    if existing.token_endpoint_auth_method == "private_key_jwt" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_secret",
            "a private_key_jwt client has no secret: it signs with its own keys (update jwks or jwks_uri)",
        )
        .into());
    }
    let secret = tokens::OpaqueToken::generate();
    let mut updated = Client { secret_hash: Some(secret.hash()), ..existing };
    oauth::seal_client_secret(&mut updated, &secret, &state.master);
    let stored = updated.clone();
    state.db(move |s| s.update_client(&stored)).await?;
    state.clients.forget(&updated.id);
    op.audit(&state, AuditKind::AdminClientSecretRotated, None, json!({ "client_id": updated.id })).await?;
    Ok(ok(StatusCode::OK, &json!({ "client_id": updated.id, "client_secret": secret.expose() })))
}

pub async fn delete(
    op: Operator,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Failure> {
    let id = ClientId::from_stored(id.into_inner());
    let target = id.clone();
    if !state.db(move |s| s.delete_client(&target)).await? {
        return Err(no_such_client());
    }
    state.clients.forget(&id);
    op.audit(&state, AuditKind::AdminClientDeleted, None, json!({ "client_id": id })).await?;
    Ok(HttpResponse::NoContent().finish())
}
