package events

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Dialects, as ceremony/store names them.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Delivery states.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	DeliveryDead      = "DEAD"
)

// Execer is what Append needs of a transaction: *sql.Tx (the caller's
// store transaction) or *sql.DB.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rebind rewrites "?" placeholders to PostgreSQL's $n.
func rebind(dialect, query string) string {
	if dialect != DialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Append writes ev to the outbox in tx, with a PENDING delivery row for
// every ACTIVE subscription of its type, and returns the event's id. It
// commits or rolls back with tx.
func Append(ctx context.Context, tx Execer, dialect string, ev Event) (string, error) {
	if !knownType(ev.Type) {
		return "", fmt.Errorf("%w: unknown event type %q", ErrInvalid, ev.Type)
	}
	data, err := dataJSON(ev.Data)
	if err != nil {
		return "", err
	}
	if ev.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("events: new id: %w", err)
		}
		ev.ID = id.String()
	}
	if ev.Source == "" {
		ev.Source = DefaultSource
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	at := ev.Time.UnixNano()
	if _, err := tx.ExecContext(ctx, rebind(dialect, `INSERT INTO event_outbox
		(id, type, source, subject, recording_id, event_time, data, caller) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		ev.ID, ev.Type, ev.Source, ev.Subject, ev.RecordingID, at, data, ev.Caller); err != nil {
		return "", fmt.Errorf("events: append %s %s: %w", ev.Type, ev.ID, err)
	}
	orderKey := ev.OrderKey
	if orderKey == "" {
		orderKey = ev.RecordingID
	}
	if orderKey == "" {
		orderKey = ev.ID
	}
	if _, err := tx.ExecContext(ctx, rebind(dialect, `INSERT INTO event_deliveries
		(event_id, subscription_id, order_key, event_time, state, attempts, next_attempt_at)
		SELECT CAST(? AS TEXT), id, CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), 0, CAST(? AS BIGINT)
		FROM event_subscriptions
		WHERE state = ? AND (types = '*' OR ',' || types || ',' LIKE ?)`),
		ev.ID, orderKey, at, DeliveryPending, at, SubscriptionActive, "%,"+ev.Type+",%"); err != nil {
		return "", fmt.Errorf("events: fan out %s %s: %w", ev.Type, ev.ID, err)
	}
	return ev.ID, nil
}

// Outbox is the events tables of one store database.
type Outbox struct {
	db      *sql.DB
	dialect string
	// AllowHTTP accepts http:// subscription URLs (tests, loopback
	// receivers); otherwise only https:// is accepted.
	AllowHTTP bool
	// Secrets wraps subscription secrets (secrets.go); nil stores them as
	// they are.
	Secrets SecretKeeper
	now     func() time.Time
	opened  openedSecrets
}

// New returns the outbox of db (a store opened with migration 0009).
func New(db *sql.DB, dialect string) *Outbox {
	return &Outbox{db: db, dialect: dialect, now: time.Now}
}

func (o *Outbox) q(query string) string { return rebind(o.dialect, query) }

// Append appends ev on its own (events that report no store state, such
// as a KMS breaker opening).
func (o *Outbox) Append(ctx context.Context, ev Event) (string, error) {
	return Append(ctx, o.db, o.dialect, ev)
}

// Delivery is one (event, subscription) delivery row.
type Delivery struct {
	EventID        string    `json:"eventId"`
	SubscriptionID string    `json:"subscriptionId"`
	Type           string    `json:"type"`
	RecordingID    string    `json:"recordingId,omitempty"`
	EventTime      time.Time `json:"eventTime"`
	State          string    `json:"state"`
	Attempts       int64     `json:"attempts"`
	NextAttempt    time.Time `json:"nextAttemptAt"`
	LastStatus     int64     `json:"lastStatus,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
}

// ListDeliveries lists the deliveries of a subscription in a state
// (DEAD: the dead letters), oldest event first, at most limit.
func (o *Outbox) ListDeliveries(ctx context.Context, subID, state string, limit int) ([]Delivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := o.db.QueryContext(ctx, o.q(`SELECT d.event_id, d.subscription_id, e.type, e.recording_id, d.event_time,
		d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error
		FROM event_deliveries d JOIN event_outbox e ON e.id = d.event_id
		WHERE d.subscription_id = ? AND d.state = ? ORDER BY d.event_time, d.event_id LIMIT ?`), subID, state, limit)
	if err != nil {
		return nil, fmt.Errorf("events: list deliveries of %s: %w", subID, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var at, next int64
		if err := rows.Scan(&d.EventID, &d.SubscriptionID, &d.Type, &d.RecordingID, &at, &d.State, &d.Attempts,
			&next, &d.LastStatus, &d.LastError); err != nil {
			return nil, err
		}
		d.EventTime, d.NextAttempt = time.Unix(0, at).UTC(), time.Unix(0, next).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountDead counts dead deliveries of every subscription.
func (o *Outbox) CountDead(ctx context.Context) (int64, error) {
	var n int64
	err := o.db.QueryRowContext(ctx, o.q(`SELECT COUNT(*) FROM event_deliveries WHERE state = ?`), DeliveryDead).Scan(&n)
	return n, err
}

// Replay makes every event of subID's types with from <= time < to due
// again for subID (new rows for events appended before the subscription
// existed, reset rows for delivered or dead ones), keeping each event's
// id, so receivers deduplicate. It returns how many were scheduled.
func (o *Outbox) Replay(ctx context.Context, subID string, from, to time.Time) (int64, error) {
	sub, err := o.GetSubscription(ctx, subID)
	if err != nil {
		return 0, err
	}
	if !to.After(from) {
		return 0, fmt.Errorf("%w: replay range %s to %s is empty", ErrInvalid, from, to)
	}
	now := o.now().UnixNano()
	var n int64
	err = o.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, o.q(`UPDATE event_deliveries SET state = ?, attempts = 0, next_attempt_at = ?,
			lease_owner = '', lease_until = 0, last_error = ''
			WHERE subscription_id = ? AND event_time >= ? AND event_time < ? AND state <> ?`),
			DeliveryPending, now, subID, from.UnixNano(), to.UnixNano(), DeliveryPending)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		typeCond := `(CAST(? AS TEXT) = '*' OR ',' || CAST(? AS TEXT) || ',' LIKE '%,' || e.type || ',%')`
		res, err = tx.ExecContext(ctx, o.q(`INSERT INTO event_deliveries
			(event_id, subscription_id, order_key, event_time, state, attempts, next_attempt_at)
			SELECT e.id, CAST(? AS TEXT), CASE WHEN e.recording_id = '' THEN e.id ELSE e.recording_id END, e.event_time,
				CAST(? AS TEXT), 0, CAST(? AS BIGINT)
			FROM event_outbox e
			WHERE e.event_time >= ? AND e.event_time < ? AND `+typeCond+`
			AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id AND d.subscription_id = ?)`),
			subID, DeliveryPending, now, from.UnixNano(), to.UnixNano(), joinTypes(sub.Types), joinTypes(sub.Types), subID)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n += m
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("events: replay %s: %w", subID, err)
	}
	return n, nil
}

func (o *Outbox) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Prune deletes what is older than before and settled: delivered and dead
// deliveries, then events without a delivery left. Pending deliveries and
// their events stay whatever their age. It returns how many events went.
func (o *Outbox) Prune(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := o.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, o.q(`DELETE FROM event_deliveries WHERE event_time < ? AND state <> ?`),
			before.UnixNano(), DeliveryPending); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, o.q(`DELETE FROM event_outbox WHERE event_time < ?
			AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = event_outbox.id)`), before.UnixNano())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("events: prune before %s: %w", before.Format(time.RFC3339), err)
	}
	return n, nil
}
