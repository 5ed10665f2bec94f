-- Legal holds (docs/retention.md). A hold names one recording, every
-- recording of a call, or every recording of a queue started in
-- [from_ns, to_ns) (to_ns 0: open-ended). While a hold is ACTIVE the
-- retention sweeper never deletes a recording it matches and a key
-- protecting one cannot be deleted. Setting a hold needs the legal_hold
-- scope; releasing one needs a quorum (legal_hold.release), after which
-- released_at and released_by (the approval) are set. The row is never
-- deleted. Times are Unix nanoseconds.
CREATE TABLE legal_holds (
    id           TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL DEFAULT '',
    call_id      TEXT NOT NULL DEFAULT '',
    queue_id     TEXT NOT NULL DEFAULT '',
    from_ns      BIGINT NOT NULL DEFAULT 0,
    to_ns        BIGINT NOT NULL DEFAULT 0,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    released_at  BIGINT NOT NULL DEFAULT 0,
    released_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX legal_holds_active ON legal_holds (released_at);

-- The recordings whose stored object carries the object store's legal
-- hold flag (S3 PutObjectLegalHold ON) as the sweeper last set it: the
-- sweeper sets the flag on what an active hold matches and clears it on
-- what no active hold matches any more.
CREATE TABLE recording_legal_holds (
    recording_id TEXT PRIMARY KEY,
    object_key   TEXT NOT NULL,
    set_at       BIGINT NOT NULL
);
