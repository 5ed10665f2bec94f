-- Gateways sharing this store as members of a cluster. Each live gateway
-- holds the lease of its id (gateway.id) and renews it every third of its
-- TTL; instance is random per process, so a second live process with the
-- same id cannot take the lease. A lease whose expires_at passed while
-- LIVE is claimed by one of the other gateways (state EXPIRED), which
-- marks the dead gateway's ACTIVE recordings awaiting recovery; the
-- gateway, restarted with its id, recovers them from its spool. LEFT is a
-- graceful stop. Times are Unix nanoseconds of the gateways' clocks.

CREATE TABLE gateway_leases (
    id          TEXT PRIMARY KEY,
    instance    TEXT NOT NULL,
    addr        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    renewed_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    expired_by  TEXT NOT NULL DEFAULT '',
    orphaned    BIGINT NOT NULL DEFAULT 0
);

-- Set (Unix nanoseconds) when the recording's gateway lost its lease while
-- the recording was ACTIVE; recovery gives it a final status.
ALTER TABLE recordings ADD COLUMN awaiting_recovery_at BIGINT;
