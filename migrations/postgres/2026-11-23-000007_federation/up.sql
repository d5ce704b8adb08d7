-- Upstream sign-in ("Sign in with Google"): the method each account is bound to, the links
-- from an upstream identity to an account, pending upstream flows, and the upstream that
-- authenticated a session (the `idp` claim). Only types both backends share; unix seconds.

-- `email` (sign-up, password, code, import) or the provider the account first signed in with.
ALTER TABLE accounts ADD COLUMN first_method TEXT NOT NULL DEFAULT 'email';

-- One upstream identity (provider, subject) belongs to at most one account.
CREATE TABLE federated_identities (
    provider   TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX federated_identities_account_id ON federated_identities (account_id);

-- A sign-in started upstream, by the SHA-256 of its state; deleted when its callback uses it.
CREATE TABLE federation_flows (
    state_hash     TEXT    NOT NULL PRIMARY KEY,
    provider       TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    pkce_verifier  TEXT    NOT NULL,
    continue_to    TEXT    NOT NULL,
    keep_signed_in BOOLEAN NOT NULL,
    binding_hash   TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);
CREATE INDEX federation_flows_expires_at ON federation_flows (expires_at);

-- The upstream provider that authenticated the session, carried by codes into the ID token.
ALTER TABLE sessions ADD COLUMN idp TEXT;
ALTER TABLE codes ADD COLUMN idp TEXT;
