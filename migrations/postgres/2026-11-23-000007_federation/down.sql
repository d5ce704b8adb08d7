ALTER TABLE codes DROP COLUMN idp;
ALTER TABLE sessions DROP COLUMN idp;
DROP TABLE federation_flows;
DROP TABLE federated_identities;
ALTER TABLE accounts DROP COLUMN first_method;
