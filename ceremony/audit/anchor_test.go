package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// anchored is a log whose heads go to a file anchor, as the gateway runs
// it: checkpoints every 5 entries, sensitive events at once.
type anchored struct {
	fixture
	anchor *audit.FileAnchor
	path   string
}

func newAnchored(t *testing.T) anchored {
	return newAnchoredOn(t, store.Config{SQLitePath: filepath.Join(t.TempDir(), "c.db")})
}

func newAnchoredOn(t *testing.T, cfg store.Config) anchored {
	t.Helper()
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := st.CreateServerKey(context.Background(), store.ServerKey{Kid: "k1", Purpose: store.KeyPurposeAuditSigning,
		PublicKey: pub, WrappedSeed: []byte("wrapped")}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit-anchors.log")
	a := audit.NewFileAnchor(path, false)
	return anchored{fixture: fixture{st: st, keys: map[string]ed25519.PublicKey{"k1": pub},
		log: audit.New(st, audit.Options{Signer: priv, Kid: "k1", CheckpointEvery: 5, Anchor: a})}, anchor: a, path: path}
}

func (f anchored) record(t *testing.T, action string) store.AuditEntry {
	t.Helper()
	e, err := f.log.Record(context.Background(), audit.Event{Actor: "ka", Action: action, Target: "key-1"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// build writes entries 1-16: checkpoints (anchored) at 5 and 10, a key
// bound at 13 (anchored at once), the periodic checkpoint at 15, a
// playback at 16 (anchored at once).
func (f anchored) build(t *testing.T) {
	t.Helper()
	for i := 1; i <= 16; i++ {
		switch i {
		case 13:
			f.record(t, "key.bound")
		case 16:
			f.record(t, "recording.playback")
		default:
			f.record(t, "key.registered")
		}
		if i == 15 {
			if _, err := f.log.Checkpoint(context.Background()); err != nil { // the ticker's
				t.Fatal(err)
			}
		}
	}
}

func (f anchored) verify(t *testing.T, keys map[string]ed25519.PublicKey) (audit.Report, error) {
	t.Helper()
	heads, err := f.anchor.Heads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return audit.VerifyStore(context.Background(), f.st, keys, heads...)
}

// TestAnchoredHeads: every checkpoint and every sensitive event put a
// signed head in the anchor, and the untouched chain verifies against it.
func TestAnchoredHeads(t *testing.T) {
	f := newAnchored(t)
	f.build(t)
	heads, err := f.anchor.Heads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, h := range heads {
		seqs = append(seqs, h.Seq)
	}
	if want := []int64{5, 10, 13, 15, 16}; !slices.Equal(seqs, want) {
		t.Fatalf("anchored heads at %v, want %v", seqs, want)
	}
	rep, err := f.verify(t, f.keys)
	if err != nil || rep.HeadSeq != 16 || rep.Anchored != 5 || rep.AnchoredSeq != 16 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestTruncationDetected: what the database's holder deletes with SQL,
// and the entry verify names. Each of these verified as intact against
// the database's own checkpoints alone (the old verify).
func TestTruncationDetected(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testTruncationDetected(t, b.cfg) })
	}
}

func testTruncationDetected(t *testing.T, cfg func(*testing.T) store.Config) {
	for _, tc := range []struct {
		name   string
		tamper []string
		want   string
	}{
		{"tail after the last checkpoint (a sensitive event)", []string{`DELETE FROM audit_events WHERE seq > 15`}, "entry 16:"},
		{"last checkpoint with its entries", []string{`DELETE FROM audit_events WHERE seq > 10`, `DELETE FROM audit_checkpoints WHERE seq > 10`}, "entry 11:"},
		{"last checkpoints with their entries", []string{`DELETE FROM audit_events WHERE seq > 4`, `DELETE FROM audit_checkpoints WHERE seq > 4`}, "entry 5:"},
		{"every checkpoint and every entry", []string{`DELETE FROM audit_events`, `DELETE FROM audit_checkpoints`}, "entry 1:"},
		{"every checkpoint, entries kept", []string{`DELETE FROM audit_checkpoints`}, "entry 5 "},
		{"one checkpoint in the middle", []string{`DELETE FROM audit_checkpoints WHERE seq = 10`}, "entry 10 "},
		{"one entry in the middle", []string{`DELETE FROM audit_events WHERE seq = 7`}, "entry 7:"},
		{"one entry edited", []string{`UPDATE audit_events SET actor = 'mallory' WHERE seq = 12`}, "entry 12 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAnchoredOn(t, cfg(t))
			f.build(t)
			for _, q := range tc.tamper {
				f.exec(t, q)
			}
			_, err := f.verify(t, f.keys)
			if !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify after %q: %v, want ErrBroken naming %q", tc.tamper, err, tc.want)
			}
		})
	}
}

// TestForgedChain: the database's holder cuts the chain at 8, appends a
// chain of their own signed under a key they add to the key table. With
// the auditor's keys the forged checkpoints do not verify; with the
// database's keys only the anchor catches it; with neither it passes
// (why verify warns when --keys is missing).
func TestForgedChain(t *testing.T) {
	f := newAnchored(t)
	f.build(t)
	f.exec(t, `DELETE FROM audit_events WHERE seq >= 8`)
	f.exec(t, `DELETE FROM audit_checkpoints WHERE seq >= 5`)
	fpub, fpriv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := f.st.CreateServerKey(context.Background(), store.ServerKey{Kid: "forged", Purpose: store.KeyPurposeAuditSigning,
		PublicKey: fpub, WrappedSeed: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	forger := audit.New(f.st, audit.Options{Signer: fpriv, Kid: "forged", CheckpointEvery: 5})
	for i := 8; i <= 20; i++ {
		if _, err := forger.Record(context.Background(), audit.Event{Actor: "ka", Action: "key.registered"}); err != nil {
			t.Fatal(err)
		}
	}
	dbKeys, err := audit.PublicKeys(context.Background(), f.st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(t, f.keys); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), `"forged"`) {
		t.Fatalf("verify with the auditor's keys: %v, want the forged checkpoint refused", err)
	}
	if _, err := f.verify(t, dbKeys); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "entry 5 ") {
		t.Fatalf("verify with the database's keys and the anchor: %v, want entry 5 named", err)
	}
	if _, err := audit.VerifyStore(context.Background(), f.st, dbKeys); err != nil {
		t.Fatalf("without keys or anchor the forged chain is expected to pass (the hole this closes): %v", err)
	}
}

// TestAnchorRolledBack: the local file anchor is only as good as the
// host. Whoever can rewrite the file and the database together goes
// unnoticed by that file; the auditor's copy of the heads still catches
// it.
func TestAnchorRolledBack(t *testing.T) {
	f := newAnchored(t)
	f.build(t)
	auditorCopy, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, `DELETE FROM audit_events WHERE seq > 10`)
	f.exec(t, `DELETE FROM audit_checkpoints WHERE seq > 10`)
	lines := strings.SplitAfter(string(auditorCopy), "\n")
	if err := os.WriteFile(f.path, []byte(strings.Join(lines[:2], "")), 0o600); err != nil { // heads 5 and 10
		t.Fatal(err)
	}
	if rep, err := f.verify(t, f.keys); err != nil || rep.HeadSeq != 10 {
		t.Fatalf("a rolled-back host file cannot show the cut; got %+v %v", rep, err)
	}
	heads, err := audit.DecodeHeads(auditorCopy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyStore(context.Background(), f.st, f.keys, heads...); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "entry 11:") {
		t.Fatalf("verify against the auditor's copy: %v, want entry 11 missing", err)
	}
}

// TestForgedAnchor: a head appended to the anchor under a key that is not
// the auditor's is refused, not trusted.
func TestForgedAnchor(t *testing.T) {
	f := newAnchored(t)
	f.build(t)
	_, fpriv, _ := ed25519.GenerateKey(rand.Reader)
	forged := audit.New(f.st, audit.Options{Signer: fpriv, Kid: "k1", Anchor: f.anchor})
	f.record(t, "key.registered")
	if _, err := forged.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(t, f.keys); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("verify: %v, want the forged checkpoint refused", err)
	}
}

// TestAnchorFailure: an anchor that cannot be written does not lose the
// entry; the head is pending (AnchorErr, counted) until a retry succeeds.
func TestAnchorFailure(t *testing.T) {
	f := newAnchored(t)
	dir := filepath.Join(t.TempDir(), "later")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	a := audit.NewFileAnchor(filepath.Join(dir, "anchors.log"), false)
	var told int
	log := audit.New(f.st, audit.Options{Signer: priv, Kid: "k2", Anchor: a,
		OnAnchorError: func(store.AuditCheckpoint, error) { told++ }})
	e, err := log.Record(context.Background(), audit.Event{Actor: "ka", Action: "key.bound"})
	if err != nil || e.Seq != 1 {
		t.Fatalf("record with the anchor down: %+v %v (want the entry written)", e, err)
	}
	if err := log.AnchorErr(); !errors.Is(err, audit.ErrAnchor) || !strings.Contains(err.Error(), "head 1") {
		t.Fatalf("AnchorErr: %v", err)
	}
	if s := log.AnchorStats(); s.Failures != 1 || !s.Pending || told != 1 {
		t.Fatalf("stats %+v, told %d", s, told)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Checkpoint(context.Background()); err != nil { // nothing new: retries the pending head
		t.Fatal(err)
	}
	if err := log.AnchorErr(); err != nil {
		t.Fatalf("after the retry: %v", err)
	}
	if hs, _ := a.Heads(context.Background()); len(hs) != 1 || hs[0].Seq != 1 {
		t.Fatalf("anchored %+v", hs)
	}
}

// TestAnchorFileAppendOnly: as root, the anchor file refuses a rewrite
// or truncation (FS_APPEND_FL) while appends still work.
func TestAnchorFileAppendOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("FS_APPEND_FL needs root (CAP_LINUX_IMMUTABLE)")
	}
	path := filepath.Join(t.TempDir(), "anchors.log")
	a := audit.NewFileAnchor(path, true)
	t.Cleanup(func() { clearAppendOnly(t, path) })
	for seq := int64(1); seq <= 2; seq++ {
		if err := a.Publish(context.Background(), store.AuditCheckpoint{Seq: seq, Hash: "h", Kid: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err == nil {
		t.Fatal("rewrote an append-only anchor file")
	}
	if err := os.Truncate(path, 0); err == nil {
		t.Fatal("truncated an append-only anchor file")
	}
	if hs, err := a.Heads(context.Background()); err != nil || len(hs) != 2 {
		t.Fatalf("heads %+v %v", hs, err)
	}
}

// TestCutWhileRunning: the database's holder cuts the chain under a
// running log; its next head is behind one it anchored, and the log says
// so (the gateway turns not ready) until restart.
func TestCutWhileRunning(t *testing.T) {
	f := newAnchored(t)
	f.build(t)
	if err := f.log.AnchorErr(); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `DELETE FROM audit_events WHERE seq > 10`)
	f.exec(t, `DELETE FROM audit_checkpoints WHERE seq > 10`)
	f.record(t, "key.bound") // entry 11 again, anchored at once
	if err := f.log.AnchorErr(); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "behind entry 16") {
		t.Fatalf("AnchorErr after the cut: %v", err)
	}
	f.record(t, "key.bound")
	if err := f.log.AnchorErr(); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("the alarm cleared itself: %v", err)
	}
	if _, err := f.verify(t, f.keys); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("verify: %v", err)
	}
}

// TestConcurrentNoFalseCut: concurrent appends and checkpoints of one log
// never look like a cut.
func TestConcurrentNoFalseCut(t *testing.T) {
	f := newAnchored(t)
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				action := "key.registered"
				if i%3 == 0 {
					action = "key.bound"
				}
				if _, err := f.log.Record(context.Background(), audit.Event{Actor: "ka", Action: action}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := f.log.AnchorErr(); err != nil {
		t.Fatalf("AnchorErr after concurrent appends: %v", err)
	}
	if rep, err := f.verify(t, f.keys); err != nil || rep.HeadSeq != 90 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestUnanchoredWindow documents what is not detected: non-sensitive
// entries after the newest anchored head, cut before the next periodic
// checkpoint (at most a minute's or 49 entries' worth).
func TestUnanchoredWindow(t *testing.T) {
	f := newAnchored(t)
	f.build(t)
	f.record(t, "key.registered") // 17
	f.record(t, "token.issued")   // 18
	f.exec(t, `DELETE FROM audit_events WHERE seq > 16`)
	if rep, err := f.verify(t, f.keys); err != nil || rep.HeadSeq != 16 {
		t.Fatalf("cut inside the window: %+v %v (expected to pass: the documented limit)", rep, err)
	}
	// Once the ticker's checkpoint anchors them, the same cut is named.
	g := newAnchored(t)
	g.build(t)
	g.record(t, "key.registered")
	g.record(t, "token.issued")
	if _, err := g.log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.exec(t, `DELETE FROM audit_events WHERE seq > 16`)
	if _, err := g.verify(t, g.keys); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "entry 17:") {
		t.Fatalf("cut after the checkpoint: %v", err)
	}
}
