package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// Job statuses. PENDING and RUNNING jobs are resumed by a runner after a
// restart; the others are final.
const (
	JobPending   = "PENDING"
	JobRunning   = "RUNNING"
	JobCompleted = "COMPLETED"
	// JobCompletedWithErrors: the job walked its whole scope but some
	// recordings failed (Progress.Errors > 0); they are still where they
	// were, so the job did not do what was asked.
	JobCompletedWithErrors = "COMPLETED_WITH_ERRORS"
	JobFailed              = "FAILED"
	JobCancelled           = "CANCELLED"
)

// JobFinal reports whether status is a final job status.
func JobFinal(status string) bool {
	return status == JobCompleted || status == JobCompletedWithErrors || status == JobFailed || status == JobCancelled
}

// Job is one row of the jobs table. Spec, Progress and Pending are JSON
// documents owned by the jobs package; the store keeps them opaque.
type Job struct {
	ID       string
	Kind     string
	Spec     string
	Status   string
	Progress string
	// Pending names cleanup that a committed step still owes (e.g. the old
	// object of a resealed recording), so a restart can finish it.
	Pending         string
	Error           string
	CancelRequested bool
	CancelledBy     string
	CreatedBy       string
	// Owner is the runner holding the job until LeaseUntil.
	Owner      string
	LeaseUntil time.Time
	CreatedAt  time.Time
	StartedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
}

const jobColumns = `id, kind, spec, status, progress, pending, error, cancel_requested, cancelled_by,
	created_by, owner, lease_until, created_at, started_at, updated_at, finished_at`

func scanJob(sc scanner) (Job, error) {
	var j Job
	var created, updated int64
	var lease, started, finished sql.NullInt64
	err := sc.Scan(&j.ID, &j.Kind, &j.Spec, &j.Status, &j.Progress, &j.Pending, &j.Error, &j.CancelRequested,
		&j.CancelledBy, &j.CreatedBy, &j.Owner, &lease, &created, &started, &updated, &finished)
	if err != nil {
		return Job{}, err
	}
	j.LeaseUntil, j.StartedAt, j.FinishedAt = fromNanos(lease), fromNanos(started), fromNanos(finished)
	j.CreatedAt, j.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return j, nil
}

// CreateJob inserts a PENDING job; an empty j.ID gets NewID().
func (s *SQL) CreateJob(ctx context.Context, j Job) (Job, error) {
	if j.ID == "" {
		j.ID = NewID()
	}
	if j.Kind == "" || j.Spec == "" {
		return Job{}, fmt.Errorf("%w: job needs a kind and a spec", ErrInvalid)
	}
	now := s.now().UTC()
	j.Status, j.CreatedAt, j.UpdatedAt = JobPending, now, now
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO jobs (`+jobColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		j.ID, j.Kind, j.Spec, j.Status, j.Progress, j.Pending, "", false, "", j.CreatedBy, "", nil,
		now.UnixNano(), nil, now.UnixNano(), nil)
	if isUniqueViolation(err) {
		return Job{}, fmt.Errorf("%w: job %s", ErrDuplicate, j.ID)
	}
	if err != nil {
		return Job{}, fmt.Errorf("store: create job %s: %w", j.ID, err)
	}
	return j, nil
}

// GetJob returns one job or ErrNotFound.
func (s *SQL) GetJob(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, s.q(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("%w: job %s", ErrNotFound, id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("store: get job %s: %w", id, err)
	}
	return j, nil
}

// ListJobs returns the newest jobs of a kind first (every kind if kind is
// empty); unfinished only if active.
func (s *SQL) ListJobs(ctx context.Context, kind string, active bool, limit int) ([]Job, error) {
	var c conds
	c.addEq("kind", kind)
	if active {
		c.add("status IN (?, ?)", JobPending, JobRunning)
	}
	return list(ctx, s, listQuery{what: "list jobs", columns: jobColumns, table: "jobs",
		conds: c, order: "created_at DESC, id DESC", limit: limit}, scanJob)
}

// ClaimJob gives an unfinished job to owner until leaseUntil, if nobody
// else holds an unexpired lease on it; the job becomes RUNNING. It returns
// the claimed row, or ErrConflict when another runner holds it or it is
// finished.
func (s *SQL) ClaimJob(ctx context.Context, id, owner string, leaseUntil time.Time) (Job, error) {
	now := s.now().UnixNano()
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET owner = ?, lease_until = ?, status = ?,
		started_at = COALESCE(started_at, ?), updated_at = ?
		WHERE id = ? AND status IN (?, ?) AND (owner = '' OR owner = ? OR lease_until IS NULL OR lease_until < ?)`),
		owner, leaseUntil.UnixNano(), JobRunning, now, now, id, JobPending, JobRunning, owner, now)
	if err != nil {
		return Job{}, fmt.Errorf("store: claim job %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		j, err := s.GetJob(ctx, id)
		if err != nil {
			return Job{}, err
		}
		return Job{}, fmt.Errorf("%w: job %s is %s, held by %q until %s", ErrConflict, id, j.Status, j.Owner, j.LeaseUntil.Format(time.RFC3339))
	}
	return s.GetJob(ctx, id)
}

// ReleaseJob gives up owner's lease without changing the status, so that
// another runner may resume the job at once.
func (s *SQL) ReleaseJob(ctx context.Context, id, owner string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET owner = '', lease_until = NULL, updated_at = ?
		WHERE id = ? AND owner = ?`), s.now().UnixNano(), id, owner)
	if err != nil {
		return fmt.Errorf("store: release job %s: %w", id, err)
	}
	return nil
}

// RequestJobCancel asks for a job to stop. A PENDING job nobody holds is
// cancelled at once; a RUNNING one stops at its runner's next checkpoint.
// Cancelling a finished job is ErrConflict.
func (s *SQL) RequestJobCancel(ctx context.Context, id, by string) (Job, error) {
	now := s.now().UnixNano()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, s.q(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: job %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if JobFinal(j.Status) {
			return fmt.Errorf("%w: job %s is already %s", ErrConflict, id, j.Status)
		}
		if j.Status == JobPending && j.Owner == "" {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET status = ?, cancel_requested = TRUE, cancelled_by = ?,
				updated_at = ?, finished_at = ? WHERE id = ?`), JobCancelled, by, now, now, id)
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET cancel_requested = TRUE, cancelled_by = ?, updated_at = ?
			WHERE id = ?`), by, now, id)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
			return Job{}, err
		}
		return Job{}, fmt.Errorf("store: cancel job %s: %w", id, err)
	}
	return s.GetJob(ctx, id)
}

// FinishJob gives owner's job its final status, progress and error.
func (s *SQL) FinishJob(ctx context.Context, id, owner, status, progress, errText string) error {
	if !JobFinal(status) {
		return fmt.Errorf("%w: final job status %q", ErrInvalid, status)
	}
	now := s.now().UnixNano()
	// The final status and its job.completed event commit together.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET status = ?, progress = ?, error = ?, pending = '',
		owner = '', lease_until = NULL, updated_at = ?, finished_at = ? WHERE id = ? AND owner = ? AND status = ?`),
			status, progress, errText, now, now, id, owner, JobRunning)
		if err != nil {
			return fmt.Errorf("store: finish job %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: job %s is not running under %q", ErrConflict, id, owner)
		}
		return s.appendEvents(ctx, tx, jobEvent(events.TypeJobCompleted, id, progress,
			map[string]any{"status": status, "error": errText}))
	})
	return err
}
