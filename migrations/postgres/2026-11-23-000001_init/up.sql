-- gatehouse schema, PostgreSQL flavour. Only types both backends share (diesel MultiConnection):
-- TEXT, BIGINT (unix seconds), BYTEA, BOOLEAN; lists are JSON text.

CREATE TABLE signing_keys (
    kid                TEXT    NOT NULL PRIMARY KEY,
    alg                TEXT    NOT NULL,
    sealed_private_key BYTEA   NOT NULL,
    created_at         BIGINT  NOT NULL
);

CREATE TABLE accounts (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL,
    email_verified BOOLEAN NOT NULL,
    name           TEXT,
    given_name     TEXT,
    family_name    TEXT,
    phone_number   TEXT,
    password_hash  TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    CONSTRAINT accounts_email_key UNIQUE (email)
);

CREATE TABLE sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_time  BIGINT  NOT NULL,
    amr        TEXT    NOT NULL,
    persistent BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_account_id ON sessions (account_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE clients (
    id                           TEXT   NOT NULL PRIMARY KEY,
    name                         TEXT   NOT NULL,
    secret_hash                  TEXT,
    redirect_uris                TEXT   NOT NULL,
    post_logout_redirect_uris    TEXT   NOT NULL,
    grant_types                  TEXT   NOT NULL,
    scopes                       TEXT   NOT NULL,
    token_endpoint_auth_method   TEXT   NOT NULL,
    id_token_signed_response_alg TEXT   NOT NULL,
    created_at                   BIGINT NOT NULL
);
CREATE INDEX clients_name ON clients (name);

CREATE TABLE codes (
    code_hash      TEXT   NOT NULL PRIMARY KEY,
    grant_id       TEXT   NOT NULL,
    client_id      TEXT   NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri   TEXT   NOT NULL,
    subject        TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    nonce          TEXT,
    code_challenge TEXT   NOT NULL,
    auth_time      BIGINT NOT NULL,
    amr            TEXT   NOT NULL,
    session_id     TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX codes_client_id ON codes (client_id);
CREATE INDEX codes_grant_id ON codes (grant_id);
CREATE INDEX codes_expires_at ON codes (expires_at);

CREATE TABLE revoked_grants (
    grant_id   TEXT   NOT NULL PRIMARY KEY,
    revoked_at BIGINT NOT NULL
);
