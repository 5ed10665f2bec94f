package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// Jobs is what the re-encryption and rotation routes need (a
// *jobs.Service). With a nil Deps.Jobs they answer 503.
type Jobs interface {
	Start(ctx context.Context, spec jobs.Spec, actor string) (jobs.Job, error)
	Get(ctx context.Context, id string) (jobs.Job, error)
	List(ctx context.Context, active bool, limit int) ([]jobs.Job, error)
	Cancel(ctx context.Context, id, actor string) (jobs.Job, error)
	RotateKey(ctx context.Context, keyID, actor string) (jobs.Rotation, error)
}

var _ Jobs = jobs.Service{}

func (s *server) jobRoutes() []Route {
	return []Route{
		{"POST", "/api/v2/recordings/reencrypt", ScopeKeyWrite, s.startReencrypt},
		{"GET", "/api/v2/recordings/reencrypt", ScopeKeyRead, s.listReencrypt},
		{"GET", "/api/v2/recordings/reencrypt/{jobId}", ScopeKeyRead, s.getReencrypt},
		{"DELETE", "/api/v2/recordings/reencrypt/{jobId}", ScopeKeyWrite, s.cancelReencrypt},
		{"POST", "/api/v2/recordings/reencrypt/{jobId}/cancel", ScopeKeyWrite, s.cancelReencrypt},
		{"POST", "/api/v2/keys/{keyId}/rotate", ScopeKeyWrite, s.rotateKey},
	}
}

// reencryptRequest is the reference guide's body plus mode, from/to and rate.
type reencryptRequest struct {
	PolicyIDs        []string   `json:"policyIds"`
	TargetKeyVersion string     `json:"targetKeyVersion"`
	DryRun           bool       `json:"dryRun"`
	Mode             string     `json:"mode"`
	From             *time.Time `json:"from"`
	To               *time.Time `json:"to"`
	RatePerSecond    float64    `json:"ratePerSecond"`
}

// JobJSON is the view of a re-encryption job.
type JobJSON struct {
	ID               string            `json:"id"`
	Status           string            `json:"status"`
	Mode             string            `json:"mode"`
	DryRun           bool              `json:"dryRun"`
	PolicyIDs        []string          `json:"policyIds"`
	TargetKeyVersion string            `json:"targetKeyVersion,omitempty"`
	From             *time.Time        `json:"from,omitempty"`
	To               *time.Time        `json:"to,omitempty"`
	Planned          int64             `json:"planned"`
	PlannedChanges   int64             `json:"plannedChanges"`
	PlannedBytes     int64             `json:"plannedBytes"`
	Processed        int64             `json:"processed"`
	Changed          int64             `json:"changed"`
	Skipped          int64             `json:"skipped"`
	SkippedBy        map[string]int64  `json:"skippedBy"`
	Errors           int64             `json:"errors"`
	Bytes            int64             `json:"bytes"`
	MediaBytesRead   int64             `json:"mediaBytesRead"`
	Throttled        int64             `json:"throttled"`
	RatePerSecond    float64           `json:"ratePerSecond"`
	ETASeconds       float64           `json:"etaSeconds"`
	Targets          map[string]string `json:"targets,omitempty"`
	RecentErrors     []jobs.ItemError  `json:"recentErrors,omitempty"`
	Error            string            `json:"error,omitempty"`
	CreatedBy        string            `json:"createdBy,omitempty"`
	CancelledBy      string            `json:"cancelledBy,omitempty"`
	CreatedAt        time.Time         `json:"createdAt"`
	StartedAt        *time.Time        `json:"startedAt,omitempty"`
	UpdatedAt        time.Time         `json:"updatedAt"`
	FinishedAt       *time.Time        `json:"finishedAt,omitempty"`
}

// ToJobJSON renders a job (also used by the CLI's tests).
func ToJobJSON(j jobs.Job) JobJSON {
	p := j.Progress
	skipped := p.Skipped
	if skipped == nil {
		skipped = map[string]int64{}
	}
	return JobJSON{ID: j.ID, Status: j.Status, Mode: string(j.Spec.Mode), DryRun: j.Spec.DryRun, PolicyIDs: j.Spec.PolicyIDs,
		TargetKeyVersion: j.Spec.TargetKeyVersion, From: timePtr(j.Spec.From), To: timePtr(j.Spec.To),
		Planned: p.Planned, PlannedChanges: p.PlannedChanges, PlannedBytes: p.PlannedBytes,
		Processed: p.Processed, Changed: p.Changed, Skipped: p.SkippedTotal(), SkippedBy: skipped, Errors: p.Errors,
		Bytes: p.Bytes, MediaBytesRead: p.MediaBytesRead, Throttled: p.Throttled,
		RatePerSecond: j.Rate(), ETASeconds: j.ETA().Seconds(), Targets: p.Targets, RecentErrors: p.RecentErrors,
		Error: j.Error, CreatedBy: j.CreatedBy, CancelledBy: j.CancelledBy, CreatedAt: j.CreatedAt,
		StartedAt: timePtr(j.StartedAt), UpdatedAt: j.UpdatedAt, FinishedAt: timePtr(j.FinishedAt)}
}

func (s *server) jobs() (Jobs, error) {
	if s.deps.Jobs == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeInternal, "background jobs are not running on this gateway")
	}
	return s.deps.Jobs, nil
}

// jobError maps the jobs and store sentinels to API errors.
func jobError(err error, what string) error {
	var se *jobs.SpecError
	switch {
	case errors.As(err, &se):
		return fieldError(se.Field, "%s", se.Msg)
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, CodeNotFound, "%s not found", what)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrDuplicate):
		return errorf(http.StatusConflict, CodeConflict, "%v", err)
	case errors.Is(err, jobs.ErrNoProvider), errors.Is(err, jobs.ErrNotRotatable):
		return errorf(http.StatusConflict, CodeKeyState, "%v", err)
	case errors.Is(err, kms.ErrUnavailable), errors.Is(err, kms.ErrThrottled):
		return errorf(http.StatusBadGateway, CodeKMSUnavailable, "%v", err)
	case errors.Is(err, kms.ErrDisabled), errors.Is(err, kms.ErrNotFound), errors.Is(err, kms.ErrAccessDenied):
		return errorf(http.StatusConflict, CodeKeyState, "%v", err)
	}
	return err
}

func actorOf(r *http.Request) string {
	p, _ := PrincipalFrom(r.Context())
	return p.ID
}

func (s *server) startReencrypt(w http.ResponseWriter, r *http.Request) error {
	js, err := s.jobs()
	if err != nil {
		return err
	}
	var req reencryptRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	spec := jobs.Spec{PolicyIDs: req.PolicyIDs, TargetKeyVersion: req.TargetKeyVersion, DryRun: req.DryRun,
		Mode: jobs.Mode(req.Mode), RatePerSecond: req.RatePerSecond}
	if req.From != nil {
		spec.From = *req.From
	}
	if req.To != nil {
		spec.To = *req.To
	}
	j, err := js.Start(r.Context(), spec, actorOf(r))
	if err != nil {
		return jobError(err, "policy")
	}
	s.audit(r, "reencryption job requested", zap.String("job", j.ID), zap.String("mode", string(j.Spec.Mode)),
		zap.Bool("dryRun", j.Spec.DryRun))
	w.Header().Set("Location", "/api/v2/recordings/reencrypt/"+j.ID)
	writeJSON(w, http.StatusAccepted, ToJobJSON(j))
	return nil
}

func (s *server) listReencrypt(w http.ResponseWriter, r *http.Request) error {
	js, err := s.jobs()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := DefaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxListLimit {
			return fieldError("limit", "must be 1-%d (got %q)", store.MaxListLimit, v)
		}
		limit = n
	}
	list, err := js.List(r.Context(), q.Get("active") == "true", limit)
	if err != nil {
		return err
	}
	out := make([]JobJSON, 0, len(list))
	for _, j := range list {
		out = append(out, ToJobJSON(j))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out})
	return nil
}

func (s *server) getReencrypt(w http.ResponseWriter, r *http.Request) error {
	js, err := s.jobs()
	if err != nil {
		return err
	}
	j, err := js.Get(r.Context(), r.PathValue("jobId"))
	if err != nil {
		return jobError(err, "job "+strconv.Quote(r.PathValue("jobId")))
	}
	writeJSON(w, http.StatusOK, ToJobJSON(j))
	return nil
}

func (s *server) cancelReencrypt(w http.ResponseWriter, r *http.Request) error {
	js, err := s.jobs()
	if err != nil {
		return err
	}
	j, err := js.Cancel(r.Context(), r.PathValue("jobId"), actorOf(r))
	if err != nil {
		return jobError(err, "job "+strconv.Quote(r.PathValue("jobId")))
	}
	s.audit(r, "reencryption job cancel requested", zap.String("job", j.ID))
	writeJSON(w, http.StatusAccepted, ToJobJSON(j))
	return nil
}

func (s *server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	js, err := s.jobs()
	if err != nil {
		return err
	}
	k, err := s.key(r)
	if err != nil {
		return err
	}
	rot, err := js.RotateKey(r.Context(), k.ID, actorOf(r))
	if err != nil {
		return jobError(err, "key")
	}
	s.audit(r, "key rotated", zap.String("key", k.ID), zap.String("version", rot.Version))
	writeJSON(w, http.StatusOK, rot)
	return nil
}
