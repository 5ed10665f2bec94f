package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Gateway lease states.
const (
	GatewayLive    = "LIVE"
	GatewayLeft    = "LEFT"
	GatewayExpired = "EXPIRED"
)

// ErrLeaseHeld means another live process holds the gateway id's lease.
var ErrLeaseHeld = errors.New("store: gateway lease held")

// GatewayLease is one gateway's membership of the cluster.
type GatewayLease struct {
	ID       string
	Instance string // random per process
	Addr     string
	State    string
	Started  time.Time
	Renewed  time.Time
	Expires  time.Time
	// ExpiredBy is the gateway that claimed the expired lease; Orphaned
	// how many ACTIVE recordings it marked awaiting recovery.
	ExpiredBy string
	Orphaned  int64
	// Previous (AcquireGatewayLease only) is an instance the caller knows
	// to be dead, whose unexpired lease it may take over at once.
	Previous string
}

const gatewayLeaseColumns = `id, instance, addr, state, started_at, renewed_at, expires_at, expired_by, orphaned`

// AcquireGatewayLease makes l (state LIVE) the lease of l.ID unless
// another instance than l.Previous holds it unexpired: then ErrLeaseHeld
// and the holder.
// An expired, left or own lease is taken over in one statement, so two
// processes racing for one id cannot both win.
func (s *SQL) AcquireGatewayLease(ctx context.Context, l GatewayLease) (GatewayLease, error) {
	if l.ID == "" || l.Instance == "" || !l.Expires.After(l.Renewed) {
		return GatewayLease{}, fmt.Errorf("%w: gateway lease needs id, instance and a future expiry", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO gateway_leases (`+gatewayLeaseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, '', 0)
		ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, addr = excluded.addr, state = excluded.state,
			started_at = excluded.started_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at,
			expired_by = '', orphaned = 0
		WHERE gateway_leases.state <> ? OR gateway_leases.expires_at < ? OR gateway_leases.instance = excluded.instance
			OR gateway_leases.instance = ?`),
		l.ID, l.Instance, l.Addr, GatewayLive, l.Started.UnixNano(), l.Renewed.UnixNano(), l.Expires.UnixNano(),
		GatewayLive, l.Renewed.UnixNano(), l.Previous)
	if err != nil {
		return GatewayLease{}, fmt.Errorf("store: acquire gateway lease %s: %w", l.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		l.State = GatewayLive
		return l, nil
	}
	cur, err := s.getGatewayLease(ctx, l.ID)
	if err != nil {
		return GatewayLease{}, err
	}
	return cur, fmt.Errorf("%w: gateway %s by instance %s (addr %q) until %s", ErrLeaseHeld, cur.ID, cur.Instance, cur.Addr,
		cur.Expires.Format(time.RFC3339Nano))
}

// RenewGatewayLease extends the live lease of (id, instance) to expires;
// ErrNotFound if this instance no longer holds it live (it expired and
// another gateway claimed it, or another process took the id).
func (s *SQL) RenewGatewayLease(ctx context.Context, id, instance string, now, expires time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE gateway_leases SET renewed_at = ?, expires_at = ?
		WHERE id = ? AND instance = ? AND state = ?`), now.UnixNano(), expires.UnixNano(), id, instance, GatewayLive)
	if err != nil {
		return fmt.Errorf("store: renew gateway lease %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: live lease of gateway %s instance %s", ErrNotFound, id, instance)
	}
	return nil
}

// ReleaseGatewayLease ends the lease of (id, instance) on a graceful stop.
func (s *SQL) ReleaseGatewayLease(ctx context.Context, id, instance string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE gateway_leases SET state = ?, expires_at = ?
		WHERE id = ? AND instance = ? AND state = ?`), GatewayLeft, now.UnixNano(), id, instance, GatewayLive)
	if err != nil {
		return fmt.Errorf("store: release gateway lease %s: %w", id, err)
	}
	return nil
}

// ExpiredGateway is a lease one gateway claimed as expired, with the
// recordings it marked awaiting recovery.
type ExpiredGateway struct {
	Lease      GatewayLease
	Recordings []string
}

// ExpireGatewayLeases claims every LIVE lease that expired before now for
// by, and marks the ACTIVE recordings of each as awaiting recovery, in
// one transaction per lease: of several gateways sweeping at once exactly
// one claims a lease (and reports it).
func (s *SQL) ExpireGatewayLeases(ctx context.Context, by string, now time.Time) ([]ExpiredGateway, error) {
	all, err := s.ListGatewayLeases(ctx)
	if err != nil {
		return nil, err
	}
	var out []ExpiredGateway
	for _, l := range all {
		if l.State != GatewayLive || !l.Expires.Before(now) {
			continue
		}
		var ids []string
		err := s.tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, s.q(`UPDATE gateway_leases SET state = ?, expired_by = ?
				WHERE id = ? AND instance = ? AND state = ? AND expires_at < ?`),
				GatewayExpired, by, l.ID, l.Instance, GatewayLive, now.UnixNano())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // renewed meanwhile, or another gateway claimed it
			}
			rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM recordings WHERE gateway_id = ? AND status = ? ORDER BY id`),
				l.ID, RecordingActive)
			if err != nil {
				return err
			}
			ids = []string{}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET awaiting_recovery_at = ?
				WHERE gateway_id = ? AND status = ? AND awaiting_recovery_at IS NULL`), now.UnixNano(), l.ID, RecordingActive); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, s.q(`UPDATE gateway_leases SET orphaned = ? WHERE id = ?`), len(ids), l.ID)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("store: expire gateway lease %s: %w", l.ID, err)
		}
		if ids != nil {
			l.State, l.ExpiredBy, l.Orphaned = GatewayExpired, by, int64(len(ids))
			out = append(out, ExpiredGateway{Lease: l, Recordings: ids})
		}
	}
	return out, nil
}

// ClearAwaitingRecovery unmarks the ACTIVE recordings of a gateway that
// took its lease back while still running them (it was only paused).
func (s *SQL) ClearAwaitingRecovery(ctx context.Context, gatewayID string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE recordings SET awaiting_recovery_at = NULL WHERE gateway_id = ? AND status = ?`),
		gatewayID, RecordingActive)
	if err != nil {
		return fmt.Errorf("store: clear awaiting recovery of %s: %w", gatewayID, err)
	}
	return nil
}

// ListGatewayLeases returns every gateway that ever held a lease, by id.
func (s *SQL) ListGatewayLeases(ctx context.Context) ([]GatewayLease, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+gatewayLeaseColumns+` FROM gateway_leases ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list gateway leases: %w", err)
	}
	defer rows.Close()
	var out []GatewayLease
	for rows.Next() {
		l, err := scanGatewayLease(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list gateway leases: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *SQL) getGatewayLease(ctx context.Context, id string) (GatewayLease, error) {
	l, err := scanGatewayLease(s.db.QueryRowContext(ctx, s.q(`SELECT `+gatewayLeaseColumns+` FROM gateway_leases WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return GatewayLease{}, fmt.Errorf("%w: gateway lease %s", ErrNotFound, id)
	}
	if err != nil {
		return GatewayLease{}, fmt.Errorf("store: get gateway lease %s: %w", id, err)
	}
	return l, nil
}

func scanGatewayLease(row interface{ Scan(...any) error }) (GatewayLease, error) {
	var l GatewayLease
	var started, renewed, expires int64
	if err := row.Scan(&l.ID, &l.Instance, &l.Addr, &l.State, &started, &renewed, &expires, &l.ExpiredBy, &l.Orphaned); err != nil {
		return GatewayLease{}, err
	}
	l.Started, l.Renewed, l.Expires = time.Unix(0, started).UTC(), time.Unix(0, renewed).UTC(), time.Unix(0, expires).UTC()
	return l, nil
}
