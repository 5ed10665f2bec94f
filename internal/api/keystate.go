package api

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/kms"
)

// disableKey disables a registered key once its approved proposal's delay
// has passed (the quorum gate checks that).
func (s *server) disableKey(w http.ResponseWriter, r *http.Request) error {
	return s.setKeyState(w, r, string(kms.StateDisabled), "key disabled")
}

// scheduleKeyDeletion marks a key PENDING_DELETION once its approved
// proposal's delay has passed.
func (s *server) scheduleKeyDeletion(w http.ResponseWriter, r *http.Request) error {
	return s.setKeyState(w, r, string(kms.StatePendingDeletion), "key deletion scheduled")
}

func (s *server) setKeyState(w http.ResponseWriter, r *http.Request, state, event string) error {
	k, err := s.key(r)
	if err != nil {
		return err
	}
	if k, err = s.deps.Store.UpdateKeyState(r.Context(), k.ID, state); err != nil {
		return err
	}
	s.audit(r, event, zap.String("key", k.ID), zap.String("approval", r.Header.Get(HeaderApproval)))
	writeJSON(w, http.StatusOK, toKeyJSON(k))
	return nil
}
