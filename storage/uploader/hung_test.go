package uploader_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// TestHungStoreCountedWithDefaults pauses the S3 server (SIGSTOP: it
// accepts connections and never answers) with the gateway's attempt bound
// of a minute: a call recording's attempt still times out, and is counted,
// after the floor plus its size at the minimum rate, not after the minute.
func TestHungStoreCountedWithDefaults(t *testing.T) {
	g := testenv.StartVersityGW(t)
	store := newS3(t, g)
	rec := &recorder{}
	m := uploader.NewMetrics(prometheus.NewRegistry())
	u, err := uploader.New(uploader.Config{Store: store, Done: rec.done, Concurrency: 1, Metrics: m,
		AttemptTimeout: time.Minute, // as the gateway sets it
	})
	if err != nil {
		t.Fatal(err)
	}
	g.Pause()
	defer g.Resume()
	u.Enqueue(spoolFiles(t, 1, 200_000)[0])
	stop := run(t, u)
	defer stop()
	bound := 7 * time.Second // the 5 s floor, 200 kB at 1 MiB/s, and slack
	deadline := time.Now().Add(bound)
	for testutil.ToFloat64(m.Errors.WithLabelValues("timeout")) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no upload timeout counted %v after the store hung", bound)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := rec.order(); len(got) != 0 {
		t.Fatalf("confirmed while the store hung: %v", got)
	}
}
