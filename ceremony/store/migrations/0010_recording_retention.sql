-- Retention of a recording, fixed when it is created: retain_until is the
-- policy's retentionDays (else the organisation default) added to the
-- creation time, in Unix nanoseconds UTC; 0 means no retention was
-- configured. It is a copy for the sweeper: on S3 the same date is the
-- object's lock retention, so a database holder raising or lowering this
-- value cannot make the object store delete the object early.
ALTER TABLE recordings ADD COLUMN retain_until BIGINT NOT NULL DEFAULT 0;

-- Set when the sweeper deleted the recording's objects: the row stays as
-- a tombstone carrying the deletion proof (deleted_at, Unix nanoseconds,
-- and the proof's JSON, which names the objects and their last ETags).
ALTER TABLE recordings ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;

ALTER TABLE recordings ADD COLUMN deletion_proof TEXT NOT NULL DEFAULT '';

CREATE INDEX recordings_retain_until ON recordings (retain_until);
