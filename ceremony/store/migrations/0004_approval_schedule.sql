-- Scheduled execution of approved operations that wait out a delay
-- (key.disable, key.delete): the gateway that claims a due proposal owns
-- it until lease_until (Unix nanoseconds); attempts counts its executions
-- and last_error keeps the reason of the last failed one.

ALTER TABLE approvals ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN lease_until BIGINT;
ALTER TABLE approvals ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE approvals ADD COLUMN last_error TEXT NOT NULL DEFAULT '';

CREATE INDEX approvals_due ON approvals (status, executable_at);
