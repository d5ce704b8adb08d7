-- The inactivity timeout (ASVS 5.0 7.3.1, `sessions.idle_ttl`): when a session was last used,
-- unix seconds, moved at most once a step (identity/src/idle.rs). A session open before this
-- migration counts as used when it began. SQLite adds a NOT NULL column only with a default;
-- the store always writes it.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
