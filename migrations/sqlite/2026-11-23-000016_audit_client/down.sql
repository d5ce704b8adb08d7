DROP INDEX audit_events_at;
DROP INDEX audit_events_client_at;
ALTER TABLE audit_events DROP COLUMN client_id;
