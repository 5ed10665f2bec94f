package recording

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// newTestService runs a life cycle on a fresh spool; objects may be nil.
func newTestService(t *testing.T, objects storage.Store) *Service {
	t.Helper()
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return runService(t, Deps{OrgID: "org", GatewayID: "gw", Spool: sp, Objects: objects, UploadRetryMax: time.Second})
}

// runService runs a life cycle on d until the test ends.
func runService(t *testing.T, d Deps) *Service {
	t.Helper()
	svc, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return svc
}

// sealInto writes a small sealed recording of r through its sink and
// returns the bytes written.
func sealInto(t *testing.T, r *Recording, started time.Time) []byte {
	t.Helper()
	f, err := r.Open()
	if err != nil {
		t.Fatal(err)
	}
	dek := make([]byte, 32)
	rand.Read(dek)
	var buf bytes.Buffer
	w, err := seal.NewWriter(&buf, dek, seal.Header{RecordingID: r.SealID(),
		Context:  seal.Context{OrgID: "org", CallID: "c", StartedAt: started.UnixNano(), Tracks: []seal.Track{{Label: "a", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}},
		Envelope: seal.Envelope{Key: seal.KeyRef{Provider: "local", KeyID: "k"}, WrappedDEK: []byte("wrapped")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := w.WriteRecord(seal.Record{Type: seal.RecordPacket, Arrival: int64(i) * int64(20*time.Millisecond), Data: make([]byte, 160)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Append(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := f.Seal(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A recording goes ACTIVE → SEALED → UPLOADED → INDEXED on its own once
// media has sealed it: the object lands under the key decided at Begin,
// byte for byte, and the spool copy goes.
func TestSealedRecordingUploadsUnderItsKey(t *testing.T) {
	objects, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := newTestService(t, objects)
	started := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	r, err := svc.Begin(Start{CallID: "c", StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	key := r.ObjectKey()
	if key != storage.RecordingKey("org", started, r.ID()) {
		t.Fatalf("object key %q", key)
	}
	if err := r.Started(); err != nil {
		t.Fatal(err)
	}
	want := sealInto(t, r, started)
	if r.State() != Sealed {
		t.Fatalf("after Seal: %s", r.State())
	}
	r.Ended(3, int64(len(want)))
	for deadline := time.Now().Add(10 * time.Second); r.State() != Indexed; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still %s", r.State())
		}
	}
	if _, ok := svc.d.Spool.Find(r.ID()); ok {
		t.Fatal("spool copy kept after INDEXED")
	}
	rc, err := objects.Get(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stored object differs (%d vs %d bytes): %v", len(got), len(want), err)
	}
}

// Ended before the file is sealed (the writer failed) uploads nothing.
func TestUnsealedRecordingIsNotUploaded(t *testing.T) {
	objects, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := newTestService(t, objects)
	r, _ := svc.Begin(Start{CallID: "c", StartedAt: time.Now()})
	if _, err := r.Open(); err != nil {
		t.Fatal(err)
	}
	r.Ended(1, 10)
	time.Sleep(200 * time.Millisecond)
	if r.State() != Active {
		t.Fatalf("state %s", r.State())
	}
	if infos, err := objects.List(context.Background(), ""); err != nil || len(infos) != 0 {
		t.Fatalf("stored %v (%v)", infos, err)
	}
}
