-- AudioHook integrations (media/audiohook, docs/audiohook.md): the API key
-- a contact-centre platform sends and its client secret, which signs the
-- upgrade. The secret is stored only wrapped under the platform key,
-- bound to the integration's id ("kms:" + base64); the API key is not a
-- secret on its own (it travels in every upgrade). state is ACTIVE or
-- DISABLED; rows are never deleted, so the audit log's ids stay resolvable.
-- Times are Unix nanoseconds.
CREATE TABLE audiohook_integrations (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    api_key         TEXT NOT NULL UNIQUE,
    secret          TEXT NOT NULL,
    organization_id TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
