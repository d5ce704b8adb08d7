-- The audit trail: what happened to an account, when, from where. `account_id` is plain text
-- without a foreign key, so events outlive a deleted account. `detail` is JSON naming what
-- changed, never a secret. Only types both backends share; times are unix seconds.

CREATE TABLE audit_events (
    id         TEXT   NOT NULL PRIMARY KEY,
    at         BIGINT NOT NULL,
    account_id TEXT,
    kind       TEXT   NOT NULL,
    ip         TEXT,
    detail     TEXT   NOT NULL
);
CREATE INDEX audit_events_account_at ON audit_events (account_id, at);
