DROP TABLE client_assertion_jtis;
ALTER TABLE clients DROP COLUMN sealed_secret;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN jwks;
