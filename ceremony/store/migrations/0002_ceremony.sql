-- The key ceremony: principals (service accounts and personal users) with
-- their roles and hashed client secrets, server keys wrapped under the
-- platform key (token signing, audit checkpoints, secret pepper), revoked
-- token ids, the hash-chained audit log with signed checkpoints, and
-- quorum approvals with their votes. Times are Unix nanoseconds (UTC).

CREATE TABLE principals (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE server_keys (
    kid          TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL,
    public_key   ${BLOB},
    wrapped_seed ${BLOB} NOT NULL,
    key_provider TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    retired_at   BIGINT
);

CREATE INDEX server_keys_purpose ON server_keys (purpose, created_at);

CREATE TABLE revoked_tokens (
    jti          TEXT PRIMARY KEY,
    principal_id TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL,
    revoked_by   TEXT NOT NULL
);

CREATE TABLE audit_events (
    seq       BIGINT PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_target ON audit_events (target, seq);

CREATE TABLE audit_checkpoints (
    seq       BIGINT PRIMARY KEY,
    hash      TEXT NOT NULL,
    at        BIGINT NOT NULL,
    kid       TEXT NOT NULL,
    signature ${BLOB} NOT NULL
);

CREATE TABLE approvals (
    id             TEXT PRIMARY KEY,
    operation      TEXT NOT NULL,
    target         TEXT NOT NULL,
    canonical      TEXT NOT NULL,
    digest         TEXT NOT NULL,
    proposer       TEXT NOT NULL,
    required       BIGINT NOT NULL,
    pool           BIGINT NOT NULL,
    eligible_roles TEXT NOT NULL,
    status         TEXT NOT NULL,
    delay_ns       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    approved_at    BIGINT,
    executable_at  BIGINT,
    execute_by     BIGINT,
    executed_at    BIGINT,
    executed_by    TEXT NOT NULL DEFAULT '',
    vetoed_by      TEXT NOT NULL DEFAULT '',
    veto_reason    TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL
);

CREATE INDEX approvals_status ON approvals (status, created_at);
CREATE INDEX approvals_target ON approvals (operation, target);

CREATE TABLE approval_votes (
    approval_id  TEXT NOT NULL REFERENCES approvals (id),
    principal_id TEXT NOT NULL,
    roles        TEXT NOT NULL,
    digest       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (approval_id, principal_id)
);
