package events_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

// TestHelperDoomedGateway is not a test: it is the worker of a gateway
// process that TestKilledMidDeliveryLosesNone starts (this test binary
// run again) and kills with SIGKILL.
func TestHelperDoomedGateway(t *testing.T) {
	dsn := os.Getenv("EVENTS_DOOMED_DSN")
	if dsn == "" {
		return // run directly: nothing to do
	}
	o := openOutbox(t, dsn)
	w := &events.Worker{Outbox: o, Owner: "doomed", Poll: 20 * time.Millisecond, Lease: 3 * time.Second, Batch: 4}
	_ = w.Run(context.Background())
}

// A gateway is killed (SIGKILL) while its POSTs are in flight (the
// receiver answers after 2 s): the rows it leased come back when the
// lease expires and the surviving gateway delivers them, so every event
// arrives (those in flight possibly twice, under the same webhook-id: at
// least once).
func TestKilledMidDeliveryLosesNone(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	o := openOutbox(t, dsn)
	ctx := context.Background()
	sub, err := o.CreateSubscription(ctx, events.Subscription{URL: "http://127.0.0.1:1/", Types: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	r := newNodeReceiver(t, sub.Secret, 2000)
	sub.URL = r.url()
	if _, err := o.UpdateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	const n = 12
	var ids []string
	for i := range n {
		id, err := o.Append(ctx, events.Event{Type: events.TypeRecordingUploaded, RecordingID: "rec-" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDoomedGateway$")
	cmd.Env = append(os.Environ(), "EVENTS_DOOMED_DSN="+dsn)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		inFlight := len(r.started)
		r.mu.Unlock()
		if inFlight > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the doomed gateway posted nothing in 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := time.Now()
	ok, _, _ := r.snapshot()
	if len(ok) == n {
		t.Fatal("everything was delivered before the kill: the test shows nothing")
	}

	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	runWorker(wctx, &wg, o, "survivor", 10*time.Second)
	defer func() { cancel(); wg.Wait() }()
	// Done when the store has every row DELIVERED (the receiver logs a
	// request before it answers, so its log alone says nothing).
	deadline = time.Now().Add(60 * time.Second)
	for {
		ds, err := o.ListDeliveries(ctx, sub.ID, events.DeliveryDelivered, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	ok, _, _ = r.snapshot()
	for _, id := range ids {
		if ok[id] == 0 {
			t.Errorf("event %s was lost with the killed gateway", id)
		}
	}
	ds, err := o.ListDeliveries(ctx, sub.ID, events.DeliveryDelivered, 100)
	if err != nil || len(ds) != n {
		t.Fatalf("DELIVERED rows = %d, %v; want %d", len(ds), err, n)
	}
	t.Logf("all %d delivered %s after the kill", n, time.Since(killedAt).Round(time.Millisecond))
}
