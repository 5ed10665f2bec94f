package api

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/kms"
)

// disableKey disables a registered key under an approved proposal without
// a delay (ceremony.quorum.key.disable.delay: 0s; with a delay the
// proposal is SCHEDULED and the gateway runs it itself): in its provider where the
// provider can, and in the registry, so new sessions stop using it at once
// (their policy's onKeyUnavailable decides: platform key or fail closed).
func (s *server) disableKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.key(r)
	if err != nil {
		return err
	}
	inProvider := false
	if lc := s.deps.Ceremony.Keys; lc != nil {
		if inProvider, err = lc.DisableKey(r.Context(), k); err != nil {
			s.audit(r, "key disable refused", zap.String("key", k.ID), zap.String("reason", err.Error()))
			return keyOpError(k.ID, err)
		}
	}
	if k, err = s.deps.Store.UpdateKeyState(r.Context(), k.ID, string(kms.StateDisabled)); err != nil {
		return err
	}
	s.audit(r, "key disabled", zap.String("key", k.ID), zap.Bool("inProvider", inProvider),
		zap.String("approval", r.Header.Get(HeaderApproval)))
	writeJSON(w, http.StatusOK, toKeyJSON(k))
	return nil
}

// deletedKeyJSON is a key after its deletion ran.
type deletedKeyJSON struct {
	keyJSON
	RecordingsShredded int64 `json:"recordingsShredded"`
}

// scheduleKeyDeletion runs an approved deletion without a delay (with one,
// 7 days by default, the proposal is SCHEDULED, open to veto, and the
// gateway runs it itself): the key is marked PENDING_DELETION
// (no new session uses it), then destroyed in its provider, which
// crypto-shreds every recording under it (DESTROYED, recordings SHREDDED).
func (s *server) scheduleKeyDeletion(w http.ResponseWriter, r *http.Request) error {
	k, err := s.key(r)
	if err != nil {
		return err
	}
	prev := k.State
	if k, err = s.deps.Store.UpdateKeyState(r.Context(), k.ID, string(kms.StatePendingDeletion)); err != nil {
		return err
	}
	approval := r.Header.Get(HeaderApproval)
	lc := s.deps.Ceremony.Keys
	if lc == nil {
		s.audit(r, "key deletion scheduled", zap.String("key", k.ID), zap.String("approval", approval))
		writeJSON(w, http.StatusOK, toKeyJSON(k))
		return nil
	}
	n, err := lc.ShredKey(r.Context(), k.ID, actor(r).ID)
	if err != nil {
		var refused *Error
		held := errors.Is(err, jobs.ErrLegalHold)
		if errors.As(err, &refused) || held { // e.g. the platform key: not left half-deleted
			_, _ = s.deps.Store.UpdateKeyState(r.Context(), k.ID, prev)
		}
		if held {
			s.audit(r, "key delete refused", zap.String("key", k.ID), zap.String("reason", err.Error()))
			return errorf(http.StatusConflict, CodeLegalHold, "key %s is not deleted: %v", k.ID, err)
		}
		s.audit(r, "key delete refused", zap.String("key", k.ID), zap.String("reason", err.Error()))
		return keyOpError(k.ID, err)
	}
	if k, err = s.key(r); err != nil {
		return err
	}
	s.audit(r, "key deleted", zap.String("key", k.ID), zap.Int64("recordingsShredded", n), zap.String("approval", approval))
	writeJSON(w, http.StatusOK, deletedKeyJSON{keyJSON: toKeyJSON(k), RecordingsShredded: n})
	return nil
}

// keyOpError renders a provider failure of a key operation.
func keyOpError(id string, err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, kms.ErrUnavailable), errors.Is(err, kms.ErrThrottled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, CodeKMSUnavailable, "key %s: the KMS did not complete the operation: %v", id, err)
	case errors.Is(err, kms.ErrAccessDenied):
		return errorf(http.StatusForbidden, CodeForbidden, "key %s: the KMS refused the operation: %v", id, err)
	case errors.Is(err, kms.ErrNotFound):
		return errorf(http.StatusConflict, CodeKeyState, "key %s: the KMS does not know it: %v", id, err)
	}
	return err
}
