package events_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

// nodeReceiver is testdata/receiver.js under node: a webhook endpoint
// verifying with the npm standardwebhooks package.
type nodeReceiver struct {
	t       *testing.T
	port    int
	secrets string
	delayMs int
	cmd     *exec.Cmd
	done    chan struct{}

	mu      sync.Mutex
	ok      map[string]int // verified deliveries per webhook-id
	order   []string       // webhook-ids in arrival order (verified)
	subject map[string]string
	bad     int
	started []string
}

type line struct {
	OK        bool   `json:"ok"`
	ID        string `json:"id"`
	Start     string `json:"start"`
	Listening int    `json:"listening"`
	Payload   struct {
		Subject string `json:"subject"`
	} `json:"payload"`
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newNodeReceiver(t *testing.T, secrets string, delayMs int) *nodeReceiver {
	t.Helper()
	repo := testenv.RepoRoot(t)
	if out, err := exec.Command("bash", filepath.Join(repo, "scripts", "install-standardwebhooks.sh")).CombinedOutput(); err != nil {
		t.Fatalf("install standardwebhooks (scripts/install-standardwebhooks.sh): %v\n%s", err, out)
	}
	r := &nodeReceiver{t: t, port: freePort(t), secrets: secrets, delayMs: delayMs, ok: map[string]int{}, subject: map[string]string{}}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *nodeReceiver) url() string { return "http://127.0.0.1:" + strconv.Itoa(r.port) + "/hook" }

func (r *nodeReceiver) start() {
	t := r.t
	repo := testenv.RepoRoot(t)
	cmd := exec.Command("node", filepath.Join(repo, "tests", "events", "testdata", "receiver.js"),
		strconv.Itoa(r.port), r.secrets, strconv.Itoa(r.delayMs))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(repo, ".tools", "npm-standardwebhooks", "node_modules"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	listening := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				continue
			}
			r.mu.Lock()
			switch {
			case l.Listening != 0:
				close(listening)
			case l.Start != "":
				r.started = append(r.started, l.Start)
			case l.OK:
				r.ok[l.ID]++
				r.order = append(r.order, l.ID)
				r.subject[l.ID] = l.Payload.Subject
			default:
				r.bad++
			}
			r.mu.Unlock()
		}
	}()
	select {
	case <-listening:
	case <-time.After(20 * time.Second):
		t.Fatal("node receiver did not start listening")
	}
	r.cmd, r.done = cmd, done
}

func (r *nodeReceiver) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	<-r.done
	r.cmd = nil
}

func (r *nodeReceiver) snapshot() (ok map[string]int, order []string, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok = map[string]int{}
	for k, v := range r.ok {
		ok[k] = v
	}
	return ok, append([]string(nil), r.order...), r.bad
}

// openOutbox opens the store on dsn as a gateway does (migrations
// included) and returns its outbox.
func openOutbox(t *testing.T, dsn string) *events.Outbox {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	o := events.New(s.DB(), s.Dialect())
	o.AllowHTTP = true // the receiver is on loopback
	return o
}

func runWorker(ctx context.Context, wg *sync.WaitGroup, o *events.Outbox, owner string, lease time.Duration) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := &events.Worker{Outbox: o, Owner: owner, Poll: 50 * time.Millisecond, Lease: lease,
			BaseBackoff: 500 * time.Millisecond, MaxBackoff: 4 * time.Second, MaxAttempts: 100}
		_ = w.Run(ctx)
	}()
}

// The receiver is down for 30 s while 200 events are appended over about
// 40 s, delivered by two gateways' workers on one PostgreSQL: afterwards
// every event has arrived, verified by standardwebhooks, none twice under
// one webhook-id, and each recording's events in the order appended.
func TestReceiverDownThirtySecondsTwoGateways(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	gwA, gwB := openOutbox(t, dsn), openOutbox(t, dsn)
	ctx := context.Background()
	sub, err := gwA.CreateSubscription(ctx, events.Subscription{URL: "http://127.0.0.1:1/", Types: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	r := newNodeReceiver(t, sub.Secret, 0)
	sub.URL = r.url()
	if _, err := gwA.UpdateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	runWorker(wctx, &wg, gwA, "gateway-a", 10*time.Second)
	runWorker(wctx, &wg, gwB, "gateway-b", 10*time.Second)
	defer func() { cancel(); wg.Wait() }()

	const n, recordings = 200, 20
	var appended []string
	subjectOf := map[string]string{}
	downAt, upAt := 40, 40+150 // event indices: the receiver is down between them (30 s at 200 ms each)
	var downSince time.Time
	for i := range n {
		if i == downAt {
			r.stop()
			downSince = time.Now()
		}
		if i == upAt {
			if d := time.Since(downSince); d < 30*time.Second {
				time.Sleep(30*time.Second - d)
			}
			r.start()
		}
		gw := gwA
		if i%2 == 1 {
			gw = gwB
		}
		rec := "rec-" + strconv.Itoa(i%recordings)
		id, err := gw.Append(ctx, events.Event{Type: events.TypeJobProgress, RecordingID: rec, Subject: "recordings/" + rec,
			Data: map[string]any{"seq": i}})
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, id)
		subjectOf[id] = "recordings/" + rec
		time.Sleep(200 * time.Millisecond)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, _, _ := r.snapshot()
		if len(ok) == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // a duplicate would arrive now
	ok, order, bad := r.snapshot()
	if bad != 0 {
		t.Errorf("%d requests did not verify with standardwebhooks", bad)
	}
	for _, id := range appended {
		if ok[id] != 1 {
			t.Errorf("event %s arrived %d times, want once", id, ok[id])
		}
	}
	// Per recording, arrival order is append order.
	pos := map[string]int{}
	for i, id := range order {
		if _, seen := pos[id]; !seen {
			pos[id] = i
		}
	}
	last := map[string]int{}
	for _, id := range appended {
		p, okp := pos[id]
		if !okp {
			continue
		}
		if q, had := last[subjectOf[id]]; had && p < q {
			t.Errorf("event %s of %s arrived before an older one", id, subjectOf[id])
		}
		last[subjectOf[id]] = p
	}
	// The outage was real: deliveries were retried, and the store says
	// every one is delivered.
	ds, err := gwA.ListDeliveries(ctx, sub.ID, events.DeliveryDelivered, 1000)
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, d := range ds {
		if d.Attempts > 1 {
			retried++
		}
	}
	if len(ds) != n || retried == 0 {
		t.Errorf("%d deliveries DELIVERED (want %d), %d of them retried (want > 0)", len(ds), n, retried)
	}
	t.Logf("%d events, %d retried across the outage", len(ds), retried)
}
