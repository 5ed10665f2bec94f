package controlplane

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
)

type countingMetrics struct {
	broker.Metrics
	states int
}

func (c *countingMetrics) BreakerState(kms.KeyRef, broker.State) { c.states++ }

// Only transitions append: opened once however often the broker reports
// it open, closed once when it closes again; a first Closed report (the
// normal case) appends nothing. The wrapped metrics see every report.
func TestBreakerEventsOnTransitionsOnly(t *testing.T) {
	st, err := store.Open(t.Context(), store.Config{SQLitePath: filepath.Join(t.TempDir(), "cp.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &Service{st: st, log: zap.NewNop(), cfg: Config{GatewayID: "gw1"}}
	inner := &countingMetrics{}
	m := s.BreakerEvents(inner)
	key := kms.KeyRef{Provider: "aws-kms", KeyID: "arn:aws:kms:eu-west-1:1:key/k"}
	for _, state := range []broker.State{broker.Closed, broker.Closed, broker.Open, broker.Open, broker.HalfOpen, broker.Open,
		broker.HalfOpen, broker.Closed, broker.Closed} {
		m.BreakerState(key, state)
	}
	if inner.states != 9 {
		t.Errorf("wrapped metrics saw %d reports, want 9", inner.states)
	}
	rows, err := st.DB().QueryContext(t.Context(), `SELECT type, subject FROM event_outbox ORDER BY event_time, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var typ, subject string
		if err := rows.Scan(&typ, &subject); err != nil {
			t.Fatal(err)
		}
		got = append(got, typ)
		if subject != "kms/aws-kms/"+key.KeyID {
			t.Errorf("subject %q", subject)
		}
	}
	want := []string{events.TypeKMSBreakerOpened, events.TypeKMSBreakerClosed}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
}
