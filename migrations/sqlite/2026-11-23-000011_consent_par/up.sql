-- Issue 5, the authorization endpoint: consent for third-party clients, the claims request
-- parameter kept with a grant, and pushed authorization requests (RFC 9126).
-- Only types both backends share; times are unix seconds, lists are JSON text.

-- Portals registered so far are the city's own: first-party, no PAR required.
ALTER TABLE clients ADD COLUMN first_party BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT 0;

-- The claims parameter (OIDC Core §5.5) a code was issued with, as JSON.
ALTER TABLE codes ADD COLUMN claims TEXT;

-- The same, per grant, for userinfo and refreshed ID tokens; kept as long as the grant's tokens
-- may live (deleted with nothing: a grant id is never reused).
CREATE TABLE grant_claims (
    grant_id   TEXT   NOT NULL PRIMARY KEY,
    claims     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- What an account allowed a client: the union of the scopes it consented to.
CREATE TABLE consents (
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT   NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT   NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
CREATE INDEX consents_client_id ON consents (client_id);

-- Pushed authorization requests, by the SHA-256 of their request_uri; single use.
CREATE TABLE pushed_requests (
    uri_hash   TEXT   NOT NULL PRIMARY KEY,
    client_id  TEXT   NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX pushed_requests_client_id ON pushed_requests (client_id);
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);
