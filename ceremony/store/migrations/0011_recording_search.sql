-- Search by how people ask for a call: its call id, its agent, its caller
-- number. agent_id and caller are the session's call fields, written when
-- the recording is created (caller in E.164 when it parses:
-- recording.NormalizeCaller); rows from before this migration have ''.
-- Each index ends in (started_at, id), the list's keyset order, so a
-- filtered page is an index range scan in both SQLite and PostgreSQL.
ALTER TABLE recordings ADD COLUMN agent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN caller TEXT NOT NULL DEFAULT '';
CREATE INDEX recordings_call ON recordings (call_id, started_at, id);
CREATE INDEX recordings_agent ON recordings (agent_id, started_at, id);
CREATE INDEX recordings_caller ON recordings (caller, started_at, id);
