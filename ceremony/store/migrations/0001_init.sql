-- Initial control-plane schema: recordings index, versioned policies, keys
-- registry. Shared by SQLite and PostgreSQL; ${BLOB} is BLOB or BYTEA.
-- Times are Unix nanoseconds (UTC); NULL means "not yet".

CREATE TABLE recordings (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL DEFAULT '',
    org_id         TEXT NOT NULL DEFAULT '',
    call_id        TEXT NOT NULL DEFAULT '',
    queue_id       TEXT NOT NULL DEFAULT '',
    direction      TEXT NOT NULL DEFAULT '',
    policy_id      TEXT NOT NULL DEFAULT '',
    policy_version BIGINT NOT NULL DEFAULT 0,
    key_provider   TEXT NOT NULL DEFAULT '',
    key_id         TEXT NOT NULL DEFAULT '',
    key_version    TEXT NOT NULL DEFAULT '',
    fallback       BOOLEAN NOT NULL DEFAULT FALSE,
    wrapped_dek    ${BLOB},
    object_key     TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    chunks         BIGINT NOT NULL DEFAULT 0,
    bytes          BIGINT NOT NULL DEFAULT 0,
    sha256         TEXT NOT NULL DEFAULT '',
    started_at     BIGINT NOT NULL,
    ended_at       BIGINT,
    durable_at     BIGINT,
    gateway_id     TEXT NOT NULL DEFAULT '',
    updated_at     BIGINT NOT NULL
);

CREATE INDEX recordings_started ON recordings (started_at, id);
CREATE INDEX recordings_queue ON recordings (queue_id, started_at, id);
CREATE INDEX recordings_key ON recordings (key_id, started_at, id);
CREATE INDEX recordings_status ON recordings (status, started_at, id);

CREATE TABLE policies (
    id              TEXT PRIMARY KEY,
    current_version BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT
);

CREATE TABLE policy_versions (
    policy_id  TEXT NOT NULL REFERENCES policies (id),
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

CREATE TABLE kms_keys (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    key_type             TEXT NOT NULL,
    region               TEXT NOT NULL DEFAULT '',
    ref                  TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    state                TEXT NOT NULL,
    encryption_type      TEXT NOT NULL DEFAULT '',
    auto_rotate          BOOLEAN NOT NULL DEFAULT FALSE,
    rotation_period_days BIGINT NOT NULL DEFAULT 0,
    bind_status          TEXT NOT NULL DEFAULT '',
    bind_checked_at      BIGINT,
    bound_at             BIGINT,
    kms_state            TEXT NOT NULL DEFAULT '',
    kms_region           TEXT NOT NULL DEFAULT '',
    kms_version          TEXT NOT NULL DEFAULT '',
    bind_error           TEXT NOT NULL DEFAULT '',
    version              BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
