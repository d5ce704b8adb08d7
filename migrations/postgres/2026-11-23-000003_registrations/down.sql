DROP TABLE account_attributes;
ALTER TABLE accounts DROP COLUMN imported;
DROP TABLE registrations;
ALTER TABLE clients DROP COLUMN extra_claims;
