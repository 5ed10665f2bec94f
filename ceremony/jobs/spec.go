package jobs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// KindReencrypt is the store kind of re-encryption jobs.
const KindReencrypt = "reencrypt"

// Mode is what a re-encryption job does to each recording.
type Mode string

// Modes.
const (
	// ModeRewrap replaces the key envelope only (no media read).
	ModeRewrap Mode = "rewrap"
	// ModeReseal re-seals the media under a new DEK into a new object.
	ModeReseal Mode = "reseal"
)

// MaxRatePerSecond caps the requested rate of a job.
const MaxRatePerSecond = 10000

// Spec is a re-encryption request: the reference guide's body (policyIds,
// targetKeyVersion, dryRun) plus mode, from/to and an optional rate.
type Spec struct {
	PolicyIDs []string `json:"policyIds,omitempty"`
	// TargetKeyVersion, when set, must be the current version of every
	// (non-fallback) key in scope; empty means "the current version".
	TargetKeyVersion string `json:"targetKeyVersion,omitempty"`
	DryRun           bool   `json:"dryRun"`
	Mode             Mode   `json:"mode"`
	// From and To bound the recordings' start: From <= StartedAt < To.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// RatePerSecond caps recordings changed per second (0: the runner's default).
	RatePerSecond float64 `json:"ratePerSecond,omitempty"`
}

// Normalize fills defaults and validates, naming the first bad field.
func (s *Spec) Normalize() error {
	if s.Mode == "" {
		s.Mode = ModeRewrap
	}
	if s.Mode != ModeRewrap && s.Mode != ModeReseal {
		return &SpecError{"mode", fmt.Sprintf("must be %q or %q (got %q)", ModeRewrap, ModeReseal, s.Mode)}
	}
	seen := map[string]bool{}
	for i, p := range s.PolicyIDs {
		if p == "" || len(p) > 128 {
			return &SpecError{fmt.Sprintf("policyIds[%d]", i), "must be a policy id"}
		}
		if seen[p] {
			return &SpecError{fmt.Sprintf("policyIds[%d]", i), fmt.Sprintf("%q is listed twice", p)}
		}
		seen[p] = true
	}
	if len(s.TargetKeyVersion) > 256 {
		return &SpecError{"targetKeyVersion", "is too long"}
	}
	if !s.From.IsZero() && !s.To.IsZero() && !s.From.Before(s.To) {
		return &SpecError{"to", "must be after from"}
	}
	if s.RatePerSecond < 0 || s.RatePerSecond > MaxRatePerSecond {
		return &SpecError{"ratePerSecond", fmt.Sprintf("must be 0-%d", MaxRatePerSecond)}
	}
	return nil
}

func (s *Spec) scope() store.JobScope {
	return store.JobScope{PolicyIDs: s.PolicyIDs, From: s.From, To: s.To}
}

// Skip reasons: why a recording in scope is left as it is.
const (
	SkipAtTarget    = "at_target"   // already under the target version (or resealed by this job)
	SkipActive      = "active"      // still recording
	SkipNoEnvelope  = "no_envelope" // failed before a key arrived
	SkipShredded    = "shredded"    // its key was destroyed
	SkipNoObject    = "no_object"   // reseal: not in object storage yet
	SkipBusy        = "busy"        // reseal: still in this gateway's spool
	SkipConcurrent  = "changed"     // changed by someone else under the job
	maxRecentErrors = 20
)

// ItemError is a recording the job could not change.
type ItemError struct {
	RecordingID string    `json:"recordingId"`
	Error       string    `json:"error"`
	At          time.Time `json:"at"`
}

// Progress is a job's counters and checkpoint, stored as JSON with it.
type Progress struct {
	// Planned is what the planning walk found: recordings in scope, those
	// to change and their bytes. For a dry run it is the result.
	Planned        int64 `json:"planned"`
	PlannedChanges int64 `json:"plannedChanges"`
	PlannedBytes   int64 `json:"plannedBytes"`
	PlanDone       bool  `json:"planDone"`
	// Processed counts recordings walked; Changed those rewrapped or
	// resealed; Bytes their size.
	Processed int64            `json:"processed"`
	Changed   int64            `json:"changed"`
	Bytes     int64            `json:"bytes"`
	Skipped   map[string]int64 `json:"skipped"`
	Errors    int64            `json:"errors"`
	Throttled int64            `json:"throttled"`
	// MediaBytesRead and MediaBytesWritten count object storage traffic:
	// a rewrap reads and writes none.
	MediaBytesRead    int64       `json:"mediaBytesRead"`
	MediaBytesWritten int64       `json:"mediaBytesWritten"`
	RecentErrors      []ItemError `json:"recentErrors,omitempty"`
	// Targets maps "provider:keyId" to the version recordings move to.
	Targets map[string]string `json:"targets,omitempty"`
	Cursor  store.JobCursor   `json:"cursor"`
	// ElapsedNS is the running time over every run of the job.
	ElapsedNS int64 `json:"elapsedNs"`
}

func (p *Progress) skip(reason string) {
	if p.Skipped == nil {
		p.Skipped = map[string]int64{}
	}
	p.Skipped[reason]++
}

func (p *Progress) fail(id string, err error, at time.Time) {
	p.Errors++
	p.RecentErrors = append(p.RecentErrors, ItemError{RecordingID: id, Error: err.Error(), At: at})
	if n := len(p.RecentErrors); n > maxRecentErrors {
		p.RecentErrors = p.RecentErrors[n-maxRecentErrors:]
	}
}

// SkippedTotal sums the skip counters.
func (p *Progress) SkippedTotal() int64 {
	var n int64
	for _, v := range p.Skipped {
		n += v
	}
	return n
}

// Job is the view of a re-encryption job.
type Job struct {
	ID          string
	Spec        Spec
	Status      string
	Progress    Progress
	Error       string
	CreatedBy   string
	CancelledBy string
	CreatedAt   time.Time
	StartedAt   time.Time
	UpdatedAt   time.Time
	FinishedAt  time.Time
}

// Rate is recordings walked per second of running time.
func (j *Job) Rate() float64 {
	if j.Progress.ElapsedNS <= 0 {
		return 0
	}
	return float64(j.Progress.Processed) / (float64(j.Progress.ElapsedNS) / 1e9)
}

// ETA estimates the remaining time from the planned count and the rate;
// zero when finished or unknown.
func (j *Job) ETA() time.Duration {
	left := j.Progress.Planned - j.Progress.Processed
	r := j.Rate()
	if store.JobFinal(j.Status) || left <= 0 || r <= 0 || j.Spec.DryRun {
		return 0
	}
	return time.Duration(float64(left) / r * float64(time.Second))
}

func fromRow(row store.Job) (Job, error) {
	j := Job{ID: row.ID, Status: row.Status, Error: row.Error, CreatedBy: row.CreatedBy, CancelledBy: row.CancelledBy,
		CreatedAt: row.CreatedAt, StartedAt: row.StartedAt, UpdatedAt: row.UpdatedAt, FinishedAt: row.FinishedAt}
	if err := json.Unmarshal([]byte(row.Spec), &j.Spec); err != nil {
		return Job{}, fmt.Errorf("jobs: job %s spec: %w", row.ID, err)
	}
	if row.Progress != "" {
		if err := json.Unmarshal([]byte(row.Progress), &j.Progress); err != nil {
			return Job{}, fmt.Errorf("jobs: job %s progress: %w", row.ID, err)
		}
	}
	return j, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("jobs: marshal: " + err.Error()) // only plain structs are marshalled
	}
	return string(b)
}
