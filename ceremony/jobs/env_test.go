package jobs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
)

const testOrg = "org-1"

// kit is one real key provider with a customer key in it.
type kit struct {
	name     string
	provider kms.Provider
	ref      kms.KeyRef
	rotate   func(t testing.TB)
	// target is the targetKeyVersion a job names after one rotation
	// (needed where the provider's Describe reports no version).
	target string
}

func localKit(t testing.TB) kit {
	kr, err := local.Open(filepath.Join(t.TempDir(), "keyring"), "local")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey("cust"); err != nil {
		t.Fatal(err)
	}
	ref := kms.KeyRef{Provider: local.ProviderName, KeyID: "cust"}
	return kit{name: "local", provider: kr, ref: ref, target: "v2", rotate: func(t testing.TB) {
		if _, err := kr.Rotate(context.Background(), ref); err != nil {
			t.Fatal(err)
		}
	}}
}

func localKMSKit(t testing.TB) kit {
	lk := testenv.StartLocalKMS(t, testenv.SeedKey{ID: "cmk-1", BackingKeys: []string{testenv.RandomHexKey(t)}})
	p, err := awskms.New(context.Background(), awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test",
		SecretAccessKey: "test", OrgRegion: lk.Region}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	return kit{name: "local-kms", provider: p, ref: kms.KeyRef{Provider: awskms.ProviderName, KeyID: lk.ARN("cmk-1")},
		target: "1", rotate: func(t testing.TB) { lk.RotateSeeded("cmk-1") }}
}

func softHSMKit(t testing.TB) kit {
	h := testenv.StartSoftHSM(t, "jobs")
	p, err := pkcs11.New(pkcs11.Config{ModulePath: h.Module, TokenLabel: h.TokenLabel, PIN: h.PIN})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ref, err := p.CreateKey(context.Background(), "recordings")
	if err != nil {
		t.Fatal(err)
	}
	return kit{name: "softhsm", provider: p, ref: ref, target: "v2", rotate: func(t testing.TB) {
		if _, err := p.Rotate(context.Background(), ref); err != nil {
			t.Fatal(err)
		}
	}}
}

// countingObjects counts every byte read from object storage (the test's
// own witness, independent of the runner's counters).
type countingObjects struct {
	storage.Store
	read atomic.Int64
}

func (c *countingObjects) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := c.Store.Get(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	c.read.Add(int64(len(b)))
	return io.NopCloser(bytes.NewReader(b)), err
}

// env is a store, object storage and a provider with recordings in them.
type env struct {
	t       testing.TB
	st      *store.SQL
	objects *countingObjects
	kit     kit
	seq     int
	mu      sync.Mutex
	digests map[string][32]byte
}

func newEnv(t testing.TB, k kit) *env {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(t.TempDir(), "ms.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs, err := fs.New(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Policy{ID: "pci", Name: "PCI", RecordingType: policy.RecordingAudio, TargetIDs: []string{"pci"}}
	p.Normalize()
	if _, err := st.CreatePolicy(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, objects: &countingObjects{Store: objs}, kit: k, digests: map[string][32]byte{}}
}

func (e *env) runner(cfg Config, aud Auditor) *Runner {
	e.t.Helper()
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	r, err := New(Deps{Store: e.st, Objects: e.objects, Auditor: aud, Logger: zaptest.NewLogger(e.t),
		Provider: func(name string) (kms.Provider, bool) {
			if name == e.kit.ref.Provider {
				return e.kit.provider, true
			}
			return nil, false
		}}, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// record seals a recording of n packets under the kit's key, stores it and
// indexes it with status.
func (e *env) record(status string, packets int) store.Recording {
	t := e.t
	t.Helper()
	ctx := context.Background()
	e.seq++
	id := fmt.Sprintf("rec-%04d", e.seq)
	started := time.Date(2026, 3, 1, 10, 0, e.seq, 0, time.UTC)
	dk, err := e.kit.provider.GenerateDataKey(ctx, e.kit.ref, recordingkey.ForRecording(testOrg, id, "pci"))
	if err != nil {
		t.Fatal(err)
	}
	h := seal.Header{Context: seal.Context{OrgID: testOrg, CallID: "call-" + id, QueueID: "pci", PolicyID: "pci", PolicyVersion: 1,
		Direction: "INBOUND", StartedAt: started.UnixNano(), Tracks: []seal.Track{{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}},
		Envelope: seal.Envelope{Key: seal.KeyRef{Provider: e.kit.ref.Provider, KeyID: e.kit.ref.KeyID, KeyVersion: dk.KeyVersion}, WrappedDEK: dk.Wrapped}}
	var buf bytes.Buffer
	w, err := seal.NewWriter(&buf, dk.Plaintext, h, seal.WithMaxChunkSize(4096))
	dk.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	d := digest{}
	d.init()
	for i := range packets {
		r := seal.Record{Type: seal.RecordPacket, Arrival: int64(i) * int64(20*time.Millisecond), Data: []byte(fmt.Sprintf("%s packet %d %0160d", id, i, i))}
		_ = d.add(r)
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	key := storage.RecordingKey(testOrg, started, id)
	if _, err := e.objects.Store.Put(ctx, key, bytes.NewReader(buf.Bytes()), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := store.Recording{ID: id, OrgID: testOrg, CallID: "call-" + id, QueueID: "pci", PolicyID: "pci", PolicyVersion: 1,
		KeyProvider: e.kit.ref.Provider, KeyID: e.kit.ref.KeyID, KeyVersion: dk.KeyVersion, WrappedDEK: dk.Wrapped,
		ObjectKey: key, Status: status, Bytes: int64(buf.Len()), StartedAt: started}
	if err := e.st.CreateRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.digests[id] = d.sum()
	e.mu.Unlock()
	return rec
}

// read decrypts a recording the way the gateway does (the index envelope
// supersedes the header's) and returns the digest of its records.
func (e *env) read(ctx context.Context, id string) ([32]byte, store.Recording, error) {
	rec, err := e.st.GetRecording(ctx, id)
	if err != nil {
		return [32]byte{}, rec, err
	}
	info, err := e.objects.Store.Head(ctx, rec.ObjectKey)
	if err != nil {
		return [32]byte{}, rec, err
	}
	ra := storage.NewReaderAt(ctx, e.objects.Store, rec.ObjectKey)
	dek, err := e.kit.provider.Unwrap(ctx, kms.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID}, rec.WrappedDEK,
		recordingkey.ForRecording(rec.OrgID, rec.ID, rec.PolicyID))
	if err != nil {
		return [32]byte{}, rec, err
	}
	defer clear(dek)
	rd, err := seal.NewReader(ra, info.Size, dek)
	if err != nil {
		return [32]byte{}, rec, err
	}
	d := digest{}
	d.init()
	if _, err := rd.Records(d.add); err != nil {
		return [32]byte{}, rec, err
	}
	return d.sum(), rec, nil
}

// checkReadable asserts every recording decrypts to what was recorded.
func (e *env) checkReadable(ids ...string) map[string]store.Recording {
	e.t.Helper()
	out := map[string]store.Recording{}
	for _, id := range ids {
		sum, rec, err := e.read(context.Background(), id)
		if err != nil {
			e.t.Fatalf("recording %s unreadable: %v", id, err)
		}
		if sum != e.digests[id] {
			e.t.Fatalf("recording %s decrypts to other records", id)
		}
		out[id] = rec
	}
	return out
}

// waitJob runs r until the job is final (or timeout) and returns it.
func waitJob(t testing.TB, r *Runner, id string) Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	rctx, stop := context.WithCancel(ctx)
	go func() { _ = r.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	for {
		j, err := r.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if store.JobFinal(j.Status) {
			return j
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s still %s: %+v", id, j.Status, j.Progress)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// events collects audit events.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (ev *events) Record(_ context.Context, e Event) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.all = append(ev.all, e)
}

func (ev *events) actions() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []string
	for _, e := range ev.all {
		out = append(out, e.Action)
	}
	return out
}
