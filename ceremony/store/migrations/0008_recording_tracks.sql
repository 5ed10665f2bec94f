-- Each recording's tracks as they arrived: label, kind, codec and the
-- transport that carried them (RTP, SRTP with its suite, DTLS-SRTP), as
-- JSON written when the recording is created, so an auditor can show which
-- calls were protected in transit. Rows from before this migration have ''.
ALTER TABLE recordings ADD COLUMN tracks TEXT NOT NULL DEFAULT '';
