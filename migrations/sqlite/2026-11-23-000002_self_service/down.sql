DROP TABLE outbox;
DROP TABLE password_history;
DROP TABLE one_time_codes;
DROP TABLE lockouts;
ALTER TABLE accounts DROP COLUMN tokens_revoked_at;
