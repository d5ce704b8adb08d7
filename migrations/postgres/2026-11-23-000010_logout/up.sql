-- Logout (OpenID Connect RP-Initiated Logout 1.0, Back-Channel Logout 1.0).
-- A client may register a back-channel logout URI; session_clients records which clients got a
-- code in which browser session (no foreign key to sessions: the rows are read in the same
-- transaction that ends the session); backchannel_logouts is the delivery queue, leased like the
-- mail outbox so several nodes share it. Only types both backends share; times are unix seconds.

ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;

CREATE TABLE session_clients (
    session_id TEXT   NOT NULL,
    client_id  TEXT   NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX session_clients_client_id ON session_clients (client_id);

CREATE TABLE backchannel_logouts (
    id              TEXT    NOT NULL PRIMARY KEY,
    client_id       TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject         TEXT    NOT NULL,
    session_id      TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX backchannel_logouts_due ON backchannel_logouts (status, next_attempt_at);
CREATE INDEX backchannel_logouts_client_id ON backchannel_logouts (client_id);
