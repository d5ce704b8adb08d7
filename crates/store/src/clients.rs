//! Registered clients (`oauth::ClientStore`).

use diesel::prelude::*;
use oauth::{AssertionReplayStore, Client, ClientId, ClientKeys, ClientStore};
use tokens::TokenHash;

use crate::Store;
use crate::error::{StoreError, list_from_json, list_to_json};
use crate::schema::{client_assertion_jtis, clients};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    scopes: String,
    token_endpoint_auth_method: String,
    id_token_signed_response_alg: String,
    created_at: i64,
    extra_claims: String,
    refresh_token_idle_ttl: Option<i64>,
    refresh_token_absolute_ttl: Option<i64>,
    audiences: String,
    backchannel_logout_uri: Option<String>,
    first_party: bool,
    require_pushed_authorization_requests: bool,
    jwks: Option<String>,
    jwks_uri: Option<String>,
    sealed_secret: Option<Vec<u8>>,
}

impl From<&Client> for ClientRow {
    fn from(c: &Client) -> Self {
        ClientRow {
            id: c.id.as_str().to_owned(),
            name: c.name.clone(),
            secret_hash: c.secret_hash.as_ref().map(|h| h.as_str().to_owned()),
            redirect_uris: list_to_json(&c.redirect_uris),
            post_logout_redirect_uris: list_to_json(&c.post_logout_redirect_uris),
            grant_types: list_to_json(&c.grant_types),
            scopes: list_to_json(&c.scopes),
            token_endpoint_auth_method: c.token_endpoint_auth_method.clone(),
            id_token_signed_response_alg: c.id_token_signed_response_alg.clone(),
            created_at: c.created_at,
            extra_claims: list_to_json(&c.extra_claims),
            refresh_token_idle_ttl: c.refresh_token_idle_ttl,
            refresh_token_absolute_ttl: c.refresh_token_absolute_ttl,
            audiences: list_to_json(&c.audiences),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            first_party: c.first_party,
            require_pushed_authorization_requests: c.require_pushed_authorization_requests,
            jwks: c.keys.jwks.clone(),
            jwks_uri: c.keys.jwks_uri.clone(),
            sealed_secret: c.keys.sealed_secret.clone(),
        }
    }
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            id: ClientId::from_stored(r.id),
            name: r.name,
            secret_hash: r.secret_hash.map(TokenHash::from_stored),
            redirect_uris: list_from_json("clients.redirect_uris", &r.redirect_uris)?,
            post_logout_redirect_uris: list_from_json(
                "clients.post_logout_redirect_uris",
                &r.post_logout_redirect_uris,
            )?,
            grant_types: list_from_json("clients.grant_types", &r.grant_types)?,
            scopes: list_from_json("clients.scopes", &r.scopes)?,
            token_endpoint_auth_method: r.token_endpoint_auth_method,
            keys: ClientKeys { jwks: r.jwks, jwks_uri: r.jwks_uri, sealed_secret: r.sealed_secret },
            id_token_signed_response_alg: r.id_token_signed_response_alg,
            extra_claims: list_from_json("clients.extra_claims", &r.extra_claims)?,
            created_at: r.created_at,
            refresh_token_idle_ttl: r.refresh_token_idle_ttl,
            refresh_token_absolute_ttl: r.refresh_token_absolute_ttl,
            audiences: list_from_json("clients.audiences", &r.audiences)?,
            backchannel_logout_uri: r.backchannel_logout_uri,
            first_party: r.first_party,
            require_pushed_authorization_requests: r.require_pushed_authorization_requests,
        })
    }
}

impl ClientStore for Store {
    fn insert_client(&self, client: &Client) -> Result<(), oauth::StoreError> {
        let row = ClientRow::from(client);
        self.transaction(|c| Ok(diesel::insert_into(clients::table).values(&row).execute(c)?))?;
        Ok(())
    }

    fn find_client(&self, id: &ClientId) -> Result<Option<Client>, oauth::StoreError> {
        let row = self.read(|c| {
            Ok(clients::table.find(id.as_str()).select(ClientRow::as_select()).first(c).optional()?)
        })?;
        Ok(row.map(Client::try_from).transpose()?)
    }

    fn list_clients(&self) -> Result<Vec<Client>, oauth::StoreError> {
        let rows = self.read(|c| {
            Ok(clients::table.order((clients::name, clients::id)).select(ClientRow::as_select()).load(c)?)
        })?;
        Ok(rows.into_iter().map(Client::try_from).collect::<Result<_, _>>()?)
    }

    fn update_client(&self, client: &Client) -> Result<bool, oauth::StoreError> {
        let row = ClientRow::from(client);
        let updated = self.transaction(|c| {
            Ok(diesel::update(clients::table.find(client.id.as_str())).set(&row).execute(c)?)
        })?;
        Ok(updated > 0)
    }

    /// Its codes, refresh tokens, queued logouts, consents and pushed requests go with it
    /// (`ON DELETE CASCADE`).
    fn delete_client(&self, id: &ClientId) -> Result<bool, oauth::StoreError> {
        let deleted =
            self.transaction(|c| Ok(diesel::delete(clients::table.find(id.as_str())).execute(c)?))?;
        Ok(deleted > 0)
    }
}

impl AssertionReplayStore for Store {
    /// The insert is the single-use step: the primary key (client_id, jti) lets one request
    /// win, on whichever node. Expired rows are purged first, in the same transaction.
    fn record_assertion_jti(
        &self,
        client: &ClientId,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, oauth::StoreError> {
        let outcome = self.transaction(|c| {
            diesel::delete(client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.lt(now)))
                .execute(c)?;
            Ok(diesel::insert_into(client_assertion_jtis::table)
                .values((
                    client_assertion_jtis::client_id.eq(client.as_str()),
                    client_assertion_jtis::jti.eq(jti),
                    client_assertion_jtis::expires_at.eq(expires_at),
                ))
                .execute(c)?)
        });
        match outcome {
            Ok(_) => Ok(true),
            Err(e) if e.is_unique_violation(&["client_assertion_jtis_pkey", "client_assertion_jtis.jti"]) => {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}
