DROP TABLE pushed_requests;
DROP TABLE consents;
DROP TABLE grant_claims;
ALTER TABLE codes DROP COLUMN claims;
ALTER TABLE clients DROP COLUMN require_pushed_authorization_requests;
ALTER TABLE clients DROP COLUMN first_party;
