package recording

import (
	"bytes"
	"context"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"io"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// A process dies with a recording half written (two flushed chunks, no
// final chunk). The next process's life cycle recovers it with the DEK the
// KMS unwraps, appends a recovered-final chunk, and uploads it under the
// key its session started with: the stored object verifies as RECOVERED
// with every flushed record.
func TestCrashLeftRecordingRecoveredAndStored(t *testing.T) {
	ctx := context.Background()
	keyring, err := local.Open(t.TempDir(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	ref := kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}
	dir := t.TempDir()
	sp, err := spool.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := New(Deps{OrgID: "org", Spool: sp})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	r, err := dead.Begin(Start{CallID: "c", PolicyID: "p", StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	dk, err := keyring.GenerateDataKey(ctx, ref, recordingkey.ForRecording("org", r.ID(), "p"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Open()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := seal.NewWriter(&buf, dk.Plaintext, seal.Header{RecordingID: r.SealID(),
		Context:  seal.Context{OrgID: "org", CallID: "c", PolicyID: "p", StartedAt: started.UnixNano(), Tracks: []seal.Track{{Label: "a", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}},
		Envelope: seal.Envelope{Key: seal.KeyRef{Provider: ref.Provider, KeyID: ref.KeyID, KeyVersion: dk.KeyVersion}, WrappedDEK: dk.Wrapped}})
	dek := bytes.Clone(dk.Plaintext)
	dk.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := w.WriteRecord(seal.Record{Type: seal.RecordPacket, Arrival: int64(i) * int64(20*time.Millisecond), Data: make([]byte, 160)}); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 { // a flush: the chunk is sealed and made durable
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := f.Append(buf.Bytes()); err != nil {
				t.Fatal(err)
			}
			buf.Reset()
		}
	}
	if err := f.Abandon(); err != nil { // the process dies
		t.Fatal(err)
	}

	objects, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sp2, err := spool.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	next, err := New(Deps{OrgID: "org", Spool: sp2, Objects: objects, UploadRetryMax: time.Second,
		Provider: func(name string) (kms.Provider, bool) { return keyring, name == local.ProviderName }})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- next.Run(rctx) }()
	defer func() { cancel(); <-done }()
	if err := next.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := sp2.Find(r.ID()); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("recovered recording still in the spool")
		}
	}
	rc, err := objects.Get(ctx, storage.RecordingKey("org", started, r.ID()), 0, -1)
	if err != nil {
		t.Fatalf("not stored under the key its session started with: %v", err)
	}
	stored, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := seal.NewReader(bytes.NewReader(stored), int64(len(stored)), dek)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := rd.Verify()
	if err != nil || sum.Status != seal.StatusRecovered || sum.Records != 40 {
		t.Fatalf("stored recording: %+v, %v", sum, err)
	}
}
