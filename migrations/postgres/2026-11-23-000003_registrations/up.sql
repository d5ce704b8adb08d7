-- Sign-up and imported accounts: the claims a client may receive from imported attributes,
-- registrations waiting for their email to be verified, and accounts an operator imported.
-- Only types both backends share; times are unix seconds, lists are JSON text.

ALTER TABLE clients ADD COLUMN extra_claims TEXT NOT NULL DEFAULT '[]';

-- A sign-up waiting for its emailed link, by the link's hash. Several may name one email.
CREATE TABLE registrations (
    code_hash     TEXT   NOT NULL PRIMARY KEY,
    email         TEXT   NOT NULL,
    given_name    TEXT   NOT NULL,
    family_name   TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX registrations_email ON registrations (email);
CREATE INDEX registrations_expires_at ON registrations (expires_at);

-- An imported account nobody has claimed yet (no password, email unverified).
ALTER TABLE accounts ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;

-- Extra columns of an imported account, released as claims to clients allowed to see them.
CREATE TABLE account_attributes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
