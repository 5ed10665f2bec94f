-- The KMS encryption context the recording's DEK was wrapped under, in the
-- seal header's canonical encoding (storage/seal, format version 2). A
-- rewrap reads only the index, and a DEK taken from the gateway's
-- pre-fetch pool is bound to a context the index cannot rebuild (it names
-- a pooled-DEK id, not the recording). NULL: the legacy context
-- {org, recording, policy}.
ALTER TABLE recordings ADD COLUMN kms_context ${BLOB};
