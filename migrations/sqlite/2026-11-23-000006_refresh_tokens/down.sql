DROP TABLE refresh_tokens;
ALTER TABLE clients DROP COLUMN audiences;
ALTER TABLE clients DROP COLUMN refresh_token_absolute_ttl;
ALTER TABLE clients DROP COLUMN refresh_token_idle_ttl;
