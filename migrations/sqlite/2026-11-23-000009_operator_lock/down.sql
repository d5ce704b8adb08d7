ALTER TABLE lockouts DROP COLUMN operator_locked;
