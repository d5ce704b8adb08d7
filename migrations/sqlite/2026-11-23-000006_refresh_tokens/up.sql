-- Refresh tokens (RFC 6749 §6) stored by hash, rotated on every use; all rotations of one token
-- carry the grant id of the code that started them, so revoking that grant (revoked_grants)
-- revokes the family. Per-client refresh lifetimes (NULL: the deployment's default) and the
-- audiences (RFC 8707 resource indicators) a client may ask client_credentials tokens for.
-- Only types both backends share; times are unix seconds, lists are JSON text.

ALTER TABLE clients ADD COLUMN refresh_token_idle_ttl BIGINT;
ALTER TABLE clients ADD COLUMN refresh_token_absolute_ttl BIGINT;
ALTER TABLE clients ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';

CREATE TABLE refresh_tokens (
    token_hash       TEXT   NOT NULL PRIMARY KEY,
    grant_id         TEXT   NOT NULL,
    client_id        TEXT   NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject          TEXT   NOT NULL,
    scope            TEXT   NOT NULL,
    session_id       TEXT   NOT NULL,
    auth_time        BIGINT NOT NULL,
    amr              TEXT   NOT NULL,
    family_issued_at BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_client_id ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
