-- Self-service: lockout, one-time codes, password history, the mail outbox, and token
-- revocation per account. Only types both backends share; times are unix seconds.

ALTER TABLE accounts ADD COLUMN tokens_revoked_at BIGINT;

-- One row per account with failures counted or a lock in force; none means "clear".
CREATE TABLE lockouts (
    account_id        TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    failures          INTEGER NOT NULL,
    window_started_at BIGINT,
    locked_until      BIGINT
);

-- Emailed links and typed codes, by hash. At most one per account and purpose: issuing a new
-- one replaces the old (the unique constraint holds that even under a race).
CREATE TABLE one_time_codes (
    code_hash  TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    tries      INTEGER NOT NULL,
    used_at    BIGINT,
    CONSTRAINT one_time_codes_account_purpose_key UNIQUE (account_id, purpose)
);
CREATE INDEX one_time_codes_expires_at ON one_time_codes (expires_at);

-- Password hashes an account has had, the current one included; `id` orders entries set in
-- the same second.
CREATE TABLE password_history (
    id            BIGSERIAL NOT NULL PRIMARY KEY,
    account_id    TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX password_history_account_created ON password_history (account_id, created_at);

-- Mail to deliver, written in the transaction of the change that caused it. `payload` is the
-- message as JSON; a row is leased to one node while `locked_until` lies ahead.
CREATE TABLE outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    recipient       TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_status_due ON outbox (status, next_attempt_at);
