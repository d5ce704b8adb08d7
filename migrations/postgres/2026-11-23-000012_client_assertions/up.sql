-- Issue 5, client authentication with JWT assertions (RFC 7523, OIDC Core §9):
-- private_key_jwt and client_secret_jwt.

-- private_key_jwt: the client's JWKS document, or the URL it publishes it at (one of the two).
ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
-- client_secret_jwt only: the secret sealed under the master key (AES-256-GCM, nonce ‖
-- ciphertext ‖ tag), since an HMAC cannot be checked against a hash. See
-- docs/client-authentication.md.
ALTER TABLE clients ADD COLUMN sealed_secret BYTEA;

-- The jti of every assertion a client used, until it expires: the primary key refuses a
-- replay, on any node (RFC 7523 §3 item 7). Expired rows are purged as new ones arrive.
CREATE TABLE client_assertion_jtis (
    client_id  TEXT   NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    jti        TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expires_at ON client_assertion_jtis (expires_at);
