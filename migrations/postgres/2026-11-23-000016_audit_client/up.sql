-- Audit events name the client they concern (a token issued to it, revoked by it, an operator
-- changing it), so an operator can filter the trail by client. Plain text, no foreign key: like
-- account_id, the column outlives a deleted client. `at` alone is indexed for the retention purge.

ALTER TABLE audit_events ADD COLUMN client_id TEXT;
CREATE INDEX audit_events_client_at ON audit_events (client_id, at);
CREATE INDEX audit_events_at ON audit_events (at);
