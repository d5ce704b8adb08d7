-- An operator's lock (admin API): holds until an operator lifts it; unlock links, password
-- resets and the cool-down leave it alone.

ALTER TABLE lockouts ADD COLUMN operator_locked BOOLEAN NOT NULL DEFAULT FALSE;
