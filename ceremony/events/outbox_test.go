package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// receiver records verified webhooks; fail decides a status per request.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []map[string]any
	ids    map[string]int
	fail   func(n int, ev map[string]any) int
	n      int
}

func newReceiver(t *testing.T, secret string) (*receiver, *httptest.Server) {
	r := &receiver{t: t, secret: secret, ids: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h := req.Header
		r.mu.Lock()
		secret := r.secret
		r.mu.Unlock()
		if err := Verify(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("receiver: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("receiver: body: %v", err)
		}
		r.mu.Lock()
		r.n++
		n := r.n
		status := http.StatusNoContent
		if r.fail != nil {
			status = r.fail(n, ev)
		}
		if status < 300 {
			r.got = append(r.got, ev)
			r.ids[ev["id"].(string)]++
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) events() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

func drain(t *testing.T, w *Worker, until func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !until() {
		if time.Now().After(deadline) {
			t.Fatal("deliveries did not finish in 30 s")
		}
		if _, err := w.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAppendFanOutCloudEventAndCaller(t *testing.T) {
	forDialects(t, func(t *testing.T, o *Outbox) {
		ctx := context.Background()
		all, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{"*"}, SeeCaller: true})
		if err != nil {
			t.Fatal(err)
		}
		rAll, srvAll := newReceiver(t, all.Secret)
		all.URL = srvAll.URL
		if _, err := o.UpdateSubscription(ctx, all); err != nil {
			t.Fatal(err)
		}
		fin, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{TypeRecordingFinished}})
		if err != nil {
			t.Fatal(err)
		}
		rFin, srvFin := newReceiver(t, fin.Secret)
		fin.URL = srvFin.URL
		if _, err := o.UpdateSubscription(ctx, fin); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 5, 6, 0, 0, 123456789, time.UTC)
		if _, err := o.Append(ctx, Event{Type: TypeRecordingStarted, RecordingID: "r1", Subject: "recordings/r1", Time: at, Caller: "+15551234567"}); err != nil {
			t.Fatal(err)
		}
		id, err := o.Append(ctx, Event{Type: TypeRecordingFinished, RecordingID: "r1", Subject: "recordings/r1", Time: at.Add(time.Second),
			Caller: "+15551234567", Data: map[string]any{"status": "COMPLETE", "tracks": 2}})
		if err != nil {
			t.Fatal(err)
		}
		w := &Worker{Outbox: o, Owner: "gw1"}
		drain(t, w, func() bool { return len(rAll.events()) == 2 && len(rFin.events()) == 1 })
		ev := rFin.events()[0]
		for k, want := range map[string]any{"specversion": "1.0", "id": id, "source": DefaultSource, "type": TypeRecordingFinished,
			"subject": "recordings/r1", "time": "2026-12-05T06:00:01.123456789Z", "datacontenttype": "application/json"} {
			if ev[k] != want {
				t.Errorf("%s = %v, want %v", k, ev[k], want)
			}
		}
		data := ev["data"].(map[string]any)
		if _, ok := data["caller"]; ok {
			t.Errorf("subscription without seeCaller got the caller: %v", data)
		}
		if data["status"] != "COMPLETE" {
			t.Errorf("data = %v", data)
		}
		if c := rAll.events()[1]["data"].(map[string]any)["caller"]; c != "+15551234567" {
			t.Errorf("seeCaller subscription: caller = %v", c)
		}
		if rAll.events()[0]["type"] != TypeRecordingStarted {
			t.Errorf("order: first event %v", rAll.events()[0]["type"])
		}
	})
}

func TestAppendRefusesCallerInDataAndUnknownType(t *testing.T) {
	o := openDB(t, DialectSQLite)
	ctx := context.Background()
	if _, err := o.Append(ctx, Event{Type: TypeRecordingStarted, Data: map[string]any{"caller": "+1555"}}); err == nil {
		t.Error("Append with data.caller succeeded")
	}
	if _, err := o.Append(ctx, Event{Type: "recording.exploded"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := o.Append(ctx, Event{Type: TypeJobProgress, Data: []int{1}}); err == nil {
		t.Error("Append with non-object data succeeded")
	}
}

// The event is part of the caller's transaction: a rollback leaves
// neither the event nor a delivery.
func TestAppendRollsBackWithTransaction(t *testing.T) {
	forDialects(t, func(t *testing.T, o *Outbox) {
		ctx := context.Background()
		if _, err := o.CreateSubscription(ctx, Subscription{URL: "http://127.0.0.1:1/", Types: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
		tx, err := o.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Append(ctx, tx, o.dialect, Event{Type: TypeApprovalRequested}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := o.db.QueryRow(`SELECT (SELECT COUNT(*) FROM event_outbox) + (SELECT COUNT(*) FROM event_deliveries)`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after rollback = %d, %v", n, err)
		}
	})
}

func TestSubscriptionValidation(t *testing.T) {
	o := openDB(t, DialectSQLite)
	o.AllowHTTP = false
	ctx := context.Background()
	for name, s := range map[string]Subscription{
		"http":        {URL: "http://example.com/", Types: []string{"*"}},
		"credentials": {URL: "https://u:p@example.com/", Types: []string{"*"}},
		"relative":    {URL: "/hook", Types: []string{"*"}},
		"no types":    {URL: "https://example.com/"},
		"bad type":    {URL: "https://example.com/", Types: []string{"recording.*"}},
		"bad state":   {URL: "https://example.com/", Types: []string{"*"}, State: "ON"},
	} {
		if _, err := o.CreateSubscription(ctx, s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	s, err := o.CreateSubscription(ctx, Subscription{URL: "https://example.com/", Types: []string{TypeJobCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.GetSubscription(ctx, s.ID)
	if err != nil || got.Secret != "" || got.State != SubscriptionActive {
		t.Fatalf("Get = %+v, %v (a read must not return the secret)", got, err)
	}
	if err := o.DeleteSubscription(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.GetSubscription(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// A failing receiver: retries back off, the row dies after MaxAttempts
// and is listed; events of the same recording wait behind it; a replay of
// the range delivers them with the same ids.
func TestRetryDeadLetterOrderingAndReplay(t *testing.T) {
	forDialects(t, func(t *testing.T, o *Outbox) {
		ctx := context.Background()
		sub, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		r, srv := newReceiver(t, sub.Secret)
		down := true
		r.fail = func(n int, ev map[string]any) int {
			if down && ev["subject"] == "recordings/r1" {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}
		sub.URL = srv.URL
		if _, err := o.UpdateSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now().Add(-time.Minute)
		var r1 []string
		for i := range 3 {
			id, err := o.Append(ctx, Event{Type: TypeJobProgress, RecordingID: "r1", Subject: "recordings/r1", Time: t0.Add(time.Duration(i) * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			r1 = append(r1, id)
		}
		other, err := o.Append(ctx, Event{Type: TypeJobProgress, RecordingID: "r2", Subject: "recordings/r2", Time: t0})
		if err != nil {
			t.Fatal(err)
		}
		w := &Worker{Outbox: o, Owner: "gw1", MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Metrics: NewMetrics(nil)}
		dead := func() []Delivery {
			d, err := o.ListDeliveries(ctx, sub.ID, DeliveryDead, 0)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		// r1's first event dies; only then may the second be tried, and so on.
		drain(t, w, func() bool { return len(dead()) == 3 })
		if got := r.events(); len(got) != 1 || got[0]["id"] != other {
			t.Fatalf("delivered %v, want only the other recording's event", got)
		}
		r.mu.Lock()
		tries := r.n
		r.mu.Unlock()
		if tries != 1+3*3 {
			t.Errorf("receiver saw %d requests, want 10 (1 + 3 events x 3 attempts)", tries)
		}
		if got := testutil.ToFloat64(w.Metrics.attempts.WithLabelValues("dead")); got != 3 {
			t.Errorf("dead counter = %v, want 3", got)
		}
		if got := testutil.ToFloat64(w.Metrics.attempts.WithLabelValues("retry")); got != 6 {
			t.Errorf("retry counter = %v, want 6", got)
		}
		if n, err := o.CountDead(ctx); err != nil || n != 3 {
			t.Errorf("CountDead = %d, %v; want 3", n, err)
		}
		// Run exports the dead letters as a gauge.
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_ = w.Run(rctx)
		cancel()
		if got := testutil.ToFloat64(w.Metrics.dead); got != 3 {
			t.Errorf("dead-letter gauge = %v, want 3", got)
		}
		for i, d := range dead() {
			if d.EventID != r1[i] || d.Attempts != 3 || d.LastStatus != http.StatusServiceUnavailable {
				t.Errorf("dead[%d] = %+v", i, d)
			}
		}
		// Replay: the receiver is back.
		r.mu.Lock()
		down = false
		r.mu.Unlock()
		n, err := o.Replay(ctx, sub.ID, t0.Add(-time.Second), t0.Add(time.Hour))
		if err != nil || n != 4 {
			t.Fatalf("Replay = %d, %v; want 4 (3 dead + 1 delivered)", n, err)
		}
		drain(t, w, func() bool { return len(r.events()) == 5 })
		got := r.events()[1:]
		want := []string{other, r1[0], r1[1], r1[2]}
		var r1seen []string
		for _, ev := range got {
			if ev["subject"] == "recordings/r1" {
				r1seen = append(r1seen, ev["id"].(string))
			}
		}
		if len(r1seen) != 3 || r1seen[0] != r1[0] || r1seen[1] != r1[1] || r1seen[2] != r1[2] {
			t.Errorf("replayed r1 events in order %v, want %v (all %v)", r1seen, r1, want)
		}
		if len(dead()) != 0 {
			t.Errorf("dead letters after replay: %v", dead())
		}
	})
}

// Replay reaches events appended before the subscription existed.
func TestReplayBeforeSubscription(t *testing.T) {
	o := openDB(t, DialectSQLite)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	id, err := o.Append(ctx, Event{Type: TypeKMSBreakerOpened, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Append(ctx, Event{Type: TypeJobCompleted, Time: t0}); err != nil {
		t.Fatal(err)
	}
	sub, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{TypeKMSBreakerOpened}})
	if err != nil {
		t.Fatal(err)
	}
	r, srv := newReceiver(t, sub.Secret)
	sub.URL = srv.URL
	if _, err := o.UpdateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Replay(ctx, sub.ID, t0, t0.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1 (the type filter applies)", n, err)
	}
	drain(t, &Worker{Outbox: o, Owner: "gw"}, func() bool { return len(r.events()) == 1 })
	if r.events()[0]["id"] != id {
		t.Fatalf("replayed %v", r.events()[0])
	}
}

// A worker that claimed rows and died (never posted): the rows come back
// after its lease expires, and another worker delivers them once.
func TestLeaseExpiryAfterKilledWorker(t *testing.T) {
	forDialects(t, func(t *testing.T, o *Outbox) {
		ctx := context.Background()
		sub, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		r, srv := newReceiver(t, sub.Secret)
		sub.URL = srv.URL
		if _, err := o.UpdateSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := o.Append(ctx, Event{Type: TypeJobProgress, RecordingID: "rec" + strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		dying := &Worker{Outbox: o, Owner: "dying", Lease: 300 * time.Millisecond}
		dying.defaults()
		claimed, err := dying.claim(ctx)
		if err != nil || len(claimed) != 5 {
			t.Fatalf("claim = %d, %v", len(claimed), err)
		}
		other := &Worker{Outbox: o, Owner: "other"}
		if n, err := other.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("while leased another worker claimed %d, %v", n, err)
		}
		time.Sleep(400 * time.Millisecond)
		drain(t, other, func() bool { return len(r.events()) == 5 })
		for id, n := range r.ids {
			if n != 1 {
				t.Errorf("event %s delivered %d times", id, n)
			}
		}
	})
}

// Two workers on one PostgreSQL database: every event once.
func TestTwoWorkersDeliverEachOnce(t *testing.T) {
	o := openDB(t, DialectPostgres)
	ctx := context.Background()
	sub, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	r, srv := newReceiver(t, sub.Secret)
	sub.URL = srv.URL
	if _, err := o.UpdateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if _, err := o.Append(ctx, Event{Type: TypeJobProgress, RecordingID: "rec" + strconv.Itoa(i%20)}); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, owner := range []string{"gwA", "gwB"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Worker{Outbox: o, Owner: owner, Poll: 10 * time.Millisecond, Batch: 8}
			_ = w.Run(cctx)
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(r.events()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if got := len(r.events()); got != n {
		t.Fatalf("delivered %d, want %d", got, n)
	}
	for id, c := range r.ids {
		if c != 1 {
			t.Errorf("event %s delivered %d times", id, c)
		}
	}
}

func TestRotationSignsWithBothSecrets(t *testing.T) {
	o := openDB(t, DialectSQLite)
	ctx := context.Background()
	sub, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	old := sub.Secret
	rOld, srv := newReceiver(t, old)
	sub.URL = srv.URL
	if _, err := o.UpdateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	rot, err := o.RotateSecret(ctx, sub.ID)
	if err != nil || !rot.Rotating || rot.Secret == old {
		t.Fatalf("RotateSecret = %+v, %v", rot, err)
	}
	if _, err := o.Append(ctx, Event{Type: TypeJobCompleted}); err != nil {
		t.Fatal(err)
	}
	w := &Worker{Outbox: o, Owner: "gw"}
	drain(t, w, func() bool { return len(rOld.events()) == 1 })
	// The same receiver now verifies with the new secret only.
	rOld.mu.Lock()
	rOld.secret = rot.Secret
	rOld.mu.Unlock()
	if _, err := o.EndRotation(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Append(ctx, Event{Type: TypeJobCompleted}); err != nil {
		t.Fatal(err)
	}
	drain(t, w, func() bool { return len(rOld.events()) == 2 })
}

// Prune removes settled old events only: a pending one stays at any age.
func TestPruneKeepsPending(t *testing.T) {
	forDialects(t, func(t *testing.T, o *Outbox) {
		ctx := context.Background()
		sub, err := o.CreateSubscription(ctx, Subscription{URL: "http://placeholder/", Types: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		r, srv := newReceiver(t, sub.Secret)
		sub.URL = srv.URL
		if _, err := o.UpdateSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-48 * time.Hour)
		if _, err := o.Append(ctx, Event{Type: TypeJobCompleted, Time: old}); err != nil {
			t.Fatal(err)
		}
		drain(t, &Worker{Outbox: o, Owner: "gw"}, func() bool { return len(r.events()) == 1 })
		pending, err := o.Append(ctx, Event{Type: TypeJobCompleted, Time: old}) // never delivered: no worker runs
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Append(ctx, Event{Type: TypeJobCompleted}); err != nil { // recent
			t.Fatal(err)
		}
		n, err := o.Prune(ctx, time.Now().Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v; want 1", n, err)
		}
		var left int
		if err := o.db.QueryRow(`SELECT COUNT(*) FROM event_outbox`).Scan(&left); err != nil || left != 2 {
			t.Fatalf("events left = %d, %v; want 2", left, err)
		}
		ds, err := o.ListDeliveries(ctx, sub.ID, DeliveryPending, 0)
		if err != nil || len(ds) != 2 || ds[0].EventID != pending {
			t.Fatalf("pending after prune = %+v, %v", ds, err)
		}
	})
}
