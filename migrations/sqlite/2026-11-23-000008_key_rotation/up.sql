-- Signing-key rotation (tokens::rotation): a key is published from insertion, signs from
-- `activates_at`, stops signing at `retires_at` and is dropped from the JWKS some time after.
-- Keys stored before this migration have signed since they were created.

ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN retires_at BIGINT;
UPDATE signing_keys SET activates_at = created_at;
