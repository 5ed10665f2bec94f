package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Legal holds and the retention dry run (docs/retention.md). Setting a
// hold needs only the legal_hold scope: a hold keeps, it cannot destroy.
// Releasing one lets its recordings be deleted again, so it runs only
// with an approved legal_hold.release proposal (the gate in gate.go).

// Retention is the control plane's legal holds and retention sweeper.
type Retention interface {
	CreateLegalHold(ctx context.Context, h store.LegalHold) (store.LegalHold, error)
	GetLegalHold(ctx context.Context, id string) (store.LegalHold, error)
	ListLegalHolds(ctx context.Context, activeOnly bool, after string, limit int) ([]store.LegalHold, error)
	ReleaseLegalHold(ctx context.Context, id, by string) (store.LegalHold, error)
	HeldRecordings(ctx context.Context, h store.LegalHold, limit int) ([]store.Recording, error)
	// Due is the dry run: what the sweeper would delete now.
	Due(ctx context.Context, limit int) ([]store.Recording, error)
}

func (s *server) retentionRoutes() []Route {
	return []Route{
		{"POST", "/api/v2/legal-holds", ScopeLegalHold, s.createLegalHold},
		{"GET", "/api/v2/legal-holds", ScopeRecordingsRead, s.listLegalHolds},
		{"GET", "/api/v2/legal-holds/{id}", ScopeRecordingsRead, s.getLegalHold},
		{"POST", "/api/v2/legal-holds/{id}/release", ScopeLegalHold, s.releaseLegalHold},
		{"GET", "/api/v2/retention/due", ScopeRecordingsRead, s.retentionDue},
	}
}

type legalHoldBody struct {
	RecordingID string     `json:"recordingId"`
	CallID      string     `json:"callId"`
	QueueID     string     `json:"queueId"`
	From        *time.Time `json:"from"`
	To          *time.Time `json:"to"`
	Reason      string     `json:"reason"`
}

type legalHoldJSON struct {
	ID          string     `json:"id"`
	RecordingID string     `json:"recordingId,omitempty"`
	CallID      string     `json:"callId,omitempty"`
	QueueID     string     `json:"queueId,omitempty"`
	From        *time.Time `json:"from,omitempty"`
	To          *time.Time `json:"to,omitempty"`
	Reason      string     `json:"reason"`
	CreatedBy   string     `json:"createdBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	Active      bool       `json:"active"`
	ReleasedAt  *time.Time `json:"releasedAt,omitempty"`
	// ReleasedBy is the approval that released the hold.
	ReleasedBy string `json:"releasedBy,omitempty"`
	// Recordings are the ids of the recordings the hold matches now (at
	// most maxHeldListed), on a single hold's GET and on creation.
	Recordings []string `json:"recordings,omitempty"`
}

const maxHeldListed = 100

func toLegalHoldJSON(h store.LegalHold) legalHoldJSON {
	return legalHoldJSON{ID: h.ID, RecordingID: h.RecordingID, CallID: h.CallID, QueueID: h.QueueID, From: timePtr(h.From),
		To: timePtr(h.To), Reason: h.Reason, CreatedBy: h.CreatedBy, CreatedAt: h.CreatedAt, Active: h.Active(),
		ReleasedAt: timePtr(h.ReleasedAt), ReleasedBy: h.ReleasedBy}
}

func (s *server) retention() (Retention, error) {
	if s.deps.Retention == nil {
		return nil, errorf(http.StatusNotFound, CodeNotFound, "legal holds are not enabled on this gateway")
	}
	return s.deps.Retention, nil
}

// retentionError maps the store's refusals.
func retentionError(err error) error {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return errorf(http.StatusBadRequest, CodeInvalidField, "%v", err)
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, CodeNotFound, "%v", err)
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, CodeConflict, "%v", err)
	}
	return err
}

// withHeld adds the ids of the recordings h matches.
func (s *server) withHeld(ctx context.Context, rt Retention, h store.LegalHold) (legalHoldJSON, error) {
	out := toLegalHoldJSON(h)
	recs, err := rt.HeldRecordings(ctx, h, maxHeldListed)
	if err != nil {
		return out, err
	}
	out.Recordings = make([]string, 0, len(recs))
	for _, r := range recs {
		out.Recordings = append(out.Recordings, r.ID)
	}
	return out, nil
}

func (s *server) createLegalHold(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.retention()
	if err != nil {
		return err
	}
	var b legalHoldBody
	if err := s.decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	p, _ := PrincipalFrom(r.Context())
	h := store.LegalHold{RecordingID: b.RecordingID, CallID: b.CallID, QueueID: b.QueueID, Reason: b.Reason, CreatedBy: p.ID}
	if b.From != nil {
		h.From = b.From.UTC()
	}
	if b.To != nil {
		h.To = b.To.UTC()
	}
	if h.RecordingID != "" {
		// A hold on a recording that does not exist is a typo that would
		// protect nothing: refused. Calls and queues may hold future calls.
		if _, err := s.deps.Store.GetRecording(r.Context(), h.RecordingID); err != nil {
			return retentionError(err)
		}
	}
	h, err = rt.CreateLegalHold(r.Context(), h)
	if err != nil {
		s.audit(r, "legal_hold refused", zap.String("reason", err.Error()))
		return retentionError(err)
	}
	s.audit(r, "legal_hold set", zap.String("legalHold", h.ID), zap.String("recording", h.RecordingID),
		zap.String("call", h.CallID), zap.String("queue", h.QueueID), zap.String("reason", h.Reason))
	out, err := s.withHeld(r.Context(), rt, h)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v2/legal-holds/"+h.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *server) listLegalHolds(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.retention()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := checkParams(q, map[string]bool{"active": true, "after": true, "limit": true}); err != nil {
		return err
	}
	active := false
	if v := q.Get("active"); v != "" {
		if active, err = strconv.ParseBool(v); err != nil {
			return fieldError("active", "is true or false (got %q)", v)
		}
	}
	limit, err := limitParam(q.Get("limit"), 0)
	if err != nil {
		return err
	}
	list, err := rt.ListLegalHolds(r.Context(), active, q.Get("after"), limit)
	if err != nil {
		return err
	}
	out := make([]legalHoldJSON, 0, len(list))
	for _, h := range list {
		out = append(out, toLegalHoldJSON(h))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out})
	return nil
}

func (s *server) getLegalHold(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.retention()
	if err != nil {
		return err
	}
	h, err := rt.GetLegalHold(r.Context(), r.PathValue("id"))
	if err != nil {
		return retentionError(err)
	}
	out, err := s.withHeld(r.Context(), rt, h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// releaseLegalHold runs behind the quorum gate: the approval in
// X-Approval-Id was claimed for this hold before the handler runs.
func (s *server) releaseLegalHold(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.retention()
	if err != nil {
		return err
	}
	approval := r.Header.Get(HeaderApproval)
	if approval == "" { // only without a quorum service (tests of the API alone)
		approval = "unapproved"
	}
	h, err := rt.ReleaseLegalHold(r.Context(), r.PathValue("id"), approval)
	if err != nil {
		return retentionError(err)
	}
	s.audit(r, "legal_hold released", zap.String("legalHold", h.ID), zap.String("approval", approval))
	writeJSON(w, http.StatusOK, toLegalHoldJSON(h))
	return nil
}

func (s *server) retentionDue(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.retention()
	if err != nil {
		return err
	}
	if err := checkParams(r.URL.Query(), map[string]bool{"limit": true}); err != nil {
		return err
	}
	limit, err := limitParam(r.URL.Query().Get("limit"), 0)
	if err != nil {
		return err
	}
	due, err := rt.Due(r.Context(), limit)
	if err != nil {
		return err
	}
	out := make([]recordingJSON, 0, len(due))
	for _, rec := range due {
		out = append(out, toRecordingJSON(rec))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out, "dryRun": true})
	return nil
}
