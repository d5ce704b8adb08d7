-- The inactivity timeout (ASVS 5.0 7.3.1, `sessions.idle_ttl`): when a session was last used,
-- unix seconds, moved at most once a step (identity/src/idle.rs). A session open before this
-- migration counts as used when it began.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;
