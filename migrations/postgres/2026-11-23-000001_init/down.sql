DROP TABLE revoked_grants;
DROP TABLE codes;
DROP TABLE clients;
DROP TABLE sessions;
DROP TABLE accounts;
DROP TABLE signing_keys;
