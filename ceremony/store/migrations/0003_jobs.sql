-- Background jobs (re-encryption: rewrap and reseal) with their checkpoint,
-- and the rotation history of registered keys. Times are Unix nanoseconds
-- (UTC); NULL means "not yet".

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    spec             TEXT NOT NULL,
    status           TEXT NOT NULL,
    progress         TEXT NOT NULL,
    pending          TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    cancelled_by     TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    owner            TEXT NOT NULL DEFAULT '',
    lease_until      BIGINT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT
);

CREATE INDEX jobs_status ON jobs (status, created_at);

CREATE TABLE key_rotations (
    key_id     TEXT NOT NULL,
    slot       BIGINT NOT NULL,
    version    TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    rotated_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, slot)
);
