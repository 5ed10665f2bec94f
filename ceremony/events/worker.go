package events

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Worker delivers due outbox rows. Several workers (one per gateway) may
// share one PostgreSQL store; each row is leased by one of them at a time.
type Worker struct {
	Outbox *Outbox
	// Owner names this worker in leases (the gateway id and a random
	// instance, so a restarted gateway does not trust its old leases).
	Owner  string
	Client *http.Client
	Logger *zap.Logger
	// Lease is how long a claimed row is this worker's: longer than one
	// POST with its timeout. A worker killed mid-delivery loses its rows
	// for this long, then another worker delivers them.
	Lease time.Duration
	// Poll is the pause when nothing is due.
	Poll time.Duration
	// Batch is how many rows one claim takes (and delivers concurrently).
	Batch int
	// MaxAttempts, then the row is dead.
	MaxAttempts int64
	// Backoff before attempt n+1 is BaseBackoff*2^(n-1), at most
	// MaxBackoff, with jitter: a uniform pick in its upper half.
	BaseBackoff, MaxBackoff time.Duration
	Metrics                 *Metrics
	// Retain is how long settled events stay for replay (default 30
	// days); older ones are pruned hourly by Run.
	Retain time.Duration

	now func() time.Time
}

func (w *Worker) defaults() {
	if w.Client == nil {
		w.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// Redirects are not followed: the subscription's URL is the only
	// destination an administrator approved.
	c := *w.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.Client = &c
	if w.Logger == nil {
		w.Logger = zap.NewNop()
	}
	if w.Lease <= 0 {
		w.Lease = 30 * time.Second
	}
	if w.Poll <= 0 {
		w.Poll = 500 * time.Millisecond
	}
	if w.Batch <= 0 {
		w.Batch = 32
	}
	if w.MaxAttempts <= 0 {
		w.MaxAttempts = 12
	}
	if w.BaseBackoff <= 0 {
		w.BaseBackoff = time.Second
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = 10 * time.Minute
	}
	if w.Retain <= 0 {
		w.Retain = 30 * 24 * time.Hour
	}
	if w.now == nil {
		w.now = time.Now
	}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	if w.Owner == "" {
		return fmt.Errorf("%w: worker needs an owner", ErrInvalid)
	}
	lastGauge, lastPrune := time.Time{}, time.Time{}
	for {
		if time.Since(lastPrune) > time.Hour {
			if n, err := w.Outbox.Prune(ctx, w.now().Add(-w.Retain)); err != nil && ctx.Err() == nil {
				w.Logger.Warn("events: prune", zap.Error(err))
			} else if n > 0 {
				w.Logger.Info("events: pruned settled events", zap.Int64("events", n), zap.Duration("olderThan", w.Retain))
			}
			lastPrune = time.Now()
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Logger.Warn("events: delivery round failed", zap.Error(err))
		}
		if w.Metrics != nil && time.Since(lastGauge) > 5*time.Second {
			if d, err := w.Outbox.CountDead(ctx); err == nil {
				w.Metrics.dead.Set(float64(d))
			}
			lastGauge = time.Now()
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.Poll):
		}
	}
}

type leased struct{ eventID, subID string }

// RunOnce claims one batch of due rows and delivers them; it returns how
// many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	rows, err := w.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, r := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.deliver(ctx, r); err != nil && ctx.Err() == nil {
				w.Logger.Warn("events: delivery", zap.String("event", r.eventID), zap.String("subscription", r.subID), zap.Error(err))
			}
		}()
	}
	wg.Wait()
	return len(rows), nil
}

// claim leases due rows whose older rows of the same subscription and
// recording are all delivered or dead. On PostgreSQL the candidates are
// locked with SKIP LOCKED so concurrent workers take different rows; the
// UPDATE re-checks the lease either way, so a row is never leased twice.
func (w *Worker) claim(ctx context.Context) ([]leased, error) {
	o := w.Outbox
	now := w.now().UnixNano()
	lock := ""
	if o.dialect == DialectPostgres {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	var out []leased
	err := o.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, o.q(`SELECT d.event_id, d.subscription_id FROM event_deliveries d
			JOIN event_subscriptions s ON s.id = d.subscription_id AND s.state = ?
			WHERE d.state = ? AND d.next_attempt_at <= ? AND d.lease_until < ?
			AND NOT EXISTS (SELECT 1 FROM event_deliveries e WHERE e.subscription_id = d.subscription_id
				AND e.order_key = d.order_key AND e.state = ?
				AND (e.event_time < d.event_time OR (e.event_time = d.event_time AND e.event_id < d.event_id)))
			ORDER BY d.event_time, d.event_id LIMIT ?`+lock),
			SubscriptionActive, DeliveryPending, now, now, DeliveryPending, w.Batch)
		if err != nil {
			return err
		}
		var cand []leased
		for rows.Next() {
			var l leased
			if err := rows.Scan(&l.eventID, &l.subID); err != nil {
				rows.Close()
				return err
			}
			cand = append(cand, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		until := w.now().Add(w.Lease).UnixNano()
		for _, l := range cand {
			res, err := tx.ExecContext(ctx, o.q(`UPDATE event_deliveries SET lease_owner = ?, lease_until = ?
				WHERE event_id = ? AND subscription_id = ? AND state = ? AND lease_until < ?`),
				w.Owner, until, l.eventID, l.subID, DeliveryPending, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				out = append(out, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events: claim: %w", err)
	}
	return out, nil
}

// deliver posts one leased row and records the outcome.
func (w *Worker) deliver(ctx context.Context, l leased) error {
	o := w.Outbox
	var e stored
	var at, see int64
	var url, secret, prev string
	var attempts int64
	err := o.db.QueryRowContext(ctx, o.q(`SELECT e.id, e.type, e.source, e.subject, e.recording_id, e.event_time, e.data, e.caller,
		s.url, s.secret, s.secret_prev, s.see_caller, d.attempts
		FROM event_deliveries d JOIN event_outbox e ON e.id = d.event_id JOIN event_subscriptions s ON s.id = d.subscription_id
		WHERE d.event_id = ? AND d.subscription_id = ?`), l.eventID, l.subID).Scan(
		&e.ID, &e.Type, &e.Source, &e.Subject, &e.RecordingID, &at, &e.Data, &e.Caller, &url, &secret, &prev, &see, &attempts)
	if err != nil {
		return fmt.Errorf("events: load delivery: %w", err)
	}
	e.Time = time.Unix(0, at)
	body, err := e.body(see != 0)
	if err != nil {
		return w.fail(ctx, l, attempts, 0, err)
	}
	var secrets []string
	for _, st := range []string{secret, prev} {
		if st == "" {
			continue
		}
		open, err := o.openSecret(ctx, l.subID, st)
		if err != nil {
			return w.fail(ctx, l, attempts, 0, err)
		}
		secrets = append(secrets, open)
	}
	ts := w.now()
	sig, err := Sign(e.ID, ts, body, secrets...)
	if err != nil {
		return w.fail(ctx, l, attempts, 0, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return w.fail(ctx, l, attempts, 0, err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	req.Header.Set("webhook-id", e.ID)
	req.Header.Set("webhook-timestamp", fmt.Sprint(ts.Unix()))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: the lease expires and the row is retried,
			// without counting an attempt the receiver never failed.
			return nil
		}
		return w.fail(ctx, l, attempts, 0, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return w.fail(ctx, l, attempts, int64(resp.StatusCode), fmt.Errorf("receiver answered %d", resp.StatusCode))
	}
	_, err = o.db.ExecContext(ctx, o.q(`UPDATE event_deliveries SET state = ?, attempts = attempts + 1, last_status = ?,
		last_error = '', delivered_at = ?, lease_owner = '', lease_until = 0
		WHERE event_id = ? AND subscription_id = ? AND lease_owner = ?`),
		DeliveryDelivered, resp.StatusCode, w.now().UnixNano(), l.eventID, l.subID, w.Owner)
	if err != nil {
		return fmt.Errorf("events: mark delivered: %w", err)
	}
	w.Metrics.observe("delivered")
	return nil
}

// fail records a failed attempt: due again after a backoff, or dead after
// MaxAttempts.
func (w *Worker) fail(ctx context.Context, l leased, attempts, status int64, cause error) error {
	o := w.Outbox
	attempts++
	state, next := DeliveryPending, w.now().Add(w.backoff(attempts)).UnixNano()
	if attempts >= w.MaxAttempts {
		state = DeliveryDead
	}
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := o.db.ExecContext(ctx, o.q(`UPDATE event_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,
		last_status = ?, last_error = ?, lease_owner = '', lease_until = 0
		WHERE event_id = ? AND subscription_id = ? AND lease_owner = ?`),
		state, attempts, next, status, msg, l.eventID, l.subID, w.Owner)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("events: record failure: %w", err))
	}
	if state == DeliveryDead {
		w.Metrics.observe("dead")
	} else {
		w.Metrics.observe("retry")
	}
	return nil
}

func (w *Worker) backoff(attempt int64) time.Duration {
	d := w.BaseBackoff
	for i := int64(1); i < attempt && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	// Full spread in the upper half: receivers recovering from an outage
	// are not hit by every gateway's retries at once.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Metrics counts delivery outcomes and the dead letters.
type Metrics struct {
	attempts *prometheus.CounterVec
	dead     prometheus.Gauge
}

// NewMetrics registers the event metrics on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mediaseal_events_delivery_attempts_total",
			Help: "Webhook delivery attempts by outcome (delivered, retry, dead).",
		}, []string{"result"}),
		dead: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mediaseal_events_dead_letters",
			Help: "Event deliveries in the dead-letter state (all subscriptions).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m)
	}
	return m
}

// Describe and Collect make Metrics a prometheus.Collector, so it can be
// made before the registry is known and registered later.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.attempts.Describe(ch)
	m.dead.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.attempts.Collect(ch)
	m.dead.Collect(ch)
}

func (m *Metrics) observe(result string) {
	if m != nil {
		m.attempts.WithLabelValues(result).Inc()
	}
}
