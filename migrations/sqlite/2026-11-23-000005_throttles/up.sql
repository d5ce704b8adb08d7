-- Throttles (identity::ThrottleStore): one row per key (a purpose and a hashed email address,
-- say) with its current window. Only types both backends share; times are unix seconds.

CREATE TABLE throttles (
    key               TEXT    NOT NULL PRIMARY KEY,
    window_started_at BIGINT  NOT NULL,
    count             INTEGER NOT NULL,
    last_at           BIGINT  NOT NULL
);
CREATE INDEX throttles_last_at ON throttles (last_at);
