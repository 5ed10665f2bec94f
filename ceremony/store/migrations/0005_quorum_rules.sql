-- The quorum rules of the key ceremony, one row per gated operation. They
-- live in the shared store, not in each gateway's config file, so that
-- gateways sharing a database all enforce the same rules; a first start
-- seeds them and only an approved ceremony.quorum proposal changes them.
-- eligible_roles and vetoers are comma-separated role names (sorted);
-- platform_playback (recording.playback only) makes platform-key
-- recordings need the quorum too. version is the optimistic-concurrency
-- counter; approval_id names the proposal that set the row ('' = seed).

CREATE TABLE quorum_rules (
    operation         TEXT PRIMARY KEY,
    approvals         BIGINT NOT NULL,
    of_count          BIGINT NOT NULL,
    eligible_roles    TEXT NOT NULL,
    delay_ns          BIGINT NOT NULL,
    vetoers           TEXT NOT NULL,
    platform_playback BOOLEAN NOT NULL DEFAULT FALSE,
    version           BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL,
    approval_id       TEXT NOT NULL DEFAULT ''
);
