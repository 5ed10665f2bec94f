package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/playback"
)

// CodeRecordingShredded: the recording's key was destroyed; no approval
// or retry will ever decrypt it.
const CodeRecordingShredded = "recording_shredded"

// ErrRecordingShredded is what an Exporter wraps for a crypto-shredded
// recording, so that its refusal names it: playback's own sentinel.
var ErrRecordingShredded = playback.ErrShredded

// recordingKeyUsable refuses, from the index and the key registry alone
// (no KMS call), a recording that cannot be decrypted: SHREDDED (409
// recording_shredded) or under a registered key the ceremony disabled or
// scheduled for deletion (409 key_state), whatever its KMS still answers.
// A registry it cannot read refuses (fail closed).
func (s *server) recordingKeyUsable(ctx context.Context, rec store.Recording) error {
	if rec.Status == store.RecordingShredded {
		return errorf(http.StatusConflict, CodeRecordingShredded, "recording %s was crypto-shredded (key %s:%s destroyed): it can never be played back",
			rec.ID, rec.KeyProvider, rec.KeyID)
	}
	if rec.KeyProvider == "" {
		return nil
	}
	keys, err := s.deps.Store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading the key registry for recording %s: %w", rec.ID, err)
	}
	if k, ok := store.NotEnabledKey(keys, rec.KeyProvider, rec.KeyID, kms.NameOfType); ok {
		return errorf(http.StatusConflict, CodeKeyState, "recording %s is under key %s, which is %s: re-enable the key to play it back",
			rec.ID, k.ID, k.State)
	}
	return nil
}

// playbackProposable refuses up front a playback proposal no quorum could
// make useful: its recording is shredded or its key is not usable. A
// recording the index does not know is left to the approvals service.
func (s *server) playbackProposable(ctx context.Context, req approvals.Proposal) error {
	if req.Operation != approvals.OpPlayback || req.Target == "" {
		return nil
	}
	rec, err := s.deps.Store.GetRecording(ctx, req.Target)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading recording %q: %w", req.Target, err)
	}
	return s.recordingKeyUsable(ctx, rec)
}
