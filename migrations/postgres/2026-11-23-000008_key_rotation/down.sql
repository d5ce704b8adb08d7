ALTER TABLE signing_keys DROP COLUMN retires_at;
ALTER TABLE signing_keys DROP COLUMN activates_at;
