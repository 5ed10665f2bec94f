package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

var backends = []struct {
	name string
	cfg  func(t *testing.T) store.Config
}{
	{"sqlite", func(t *testing.T) store.Config { return store.Config{SQLitePath: filepath.Join(t.TempDir(), "c.db")} }},
	{"postgres", func(t *testing.T) store.Config { return store.Config{PostgresDSN: testenv.PostgresDSN(t)} }},
}

type fixture struct {
	st   *store.SQL
	log  *audit.Log
	keys map[string]ed25519.PublicKey
}

func newFixture(t *testing.T, cfg store.Config, every int) fixture {
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	return fixture{st: st, log: audit.New(st, audit.Options{Signer: priv, Kid: "k1", CheckpointEvery: every}),
		keys: map[string]ed25519.PublicKey{"k1": pub}}
}

func (f fixture) fill(t *testing.T, n int) {
	for i := 1; i <= n; i++ {
		if _, err := f.log.Record(context.Background(), audit.Event{Actor: "ka", Action: "key.registered",
			Target: fmt.Sprintf("key-%d", i), Details: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if f.st.Dialect() == store.DialectPostgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := f.st.DB().Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// TestTamper edits, deletes and reorders one row in the database: verify
// fails and names the entry.
func TestTamper(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				tamper func(f fixture)
				seq    string
			}{
				{"edit actor", func(f fixture) { f.exec(t, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 5`) }, "entry 5 "},
				{"edit details", func(f fixture) { f.exec(t, `UPDATE audit_events SET details = '{"i":99}' WHERE seq = 3`) }, "entry 3 "},
				{"delete", func(f fixture) { f.exec(t, `DELETE FROM audit_events WHERE seq = 4`) }, "entry 4:"},
				{"delete last", func(f fixture) { f.exec(t, `DELETE FROM audit_events WHERE seq = 10`) }, "entry 10:"},
				{"reorder", func(f fixture) {
					f.exec(t, `UPDATE audit_events SET seq = 1000 WHERE seq = 6`)
					f.exec(t, `UPDATE audit_events SET seq = 6 WHERE seq = 7`)
					f.exec(t, `UPDATE audit_events SET seq = 7 WHERE seq = 1000`)
				}, "entry 6 "},
				{"edit and rehash", func(f fixture) {
					// Rewrite entry 2 and recompute its hash: the next entry's link breaks.
					es, _ := f.st.ListAuditEntries(context.Background(), store.AuditFilter{})
					e := es[1]
					e.Actor = "mallory"
					f.exec(t, `UPDATE audit_events SET actor = ?, hash = ? WHERE seq = 2`, e.Actor, audit.EntryHash(e))
				}, "entry 3 "},
			} {
				t.Run(tc.name, func(t *testing.T) {
					f := newFixture(t, b.cfg(t), 5)
					f.fill(t, 10)
					if rep, err := audit.VerifyStore(context.Background(), f.st, f.keys); err != nil || rep.Entries != 10 || rep.Checkpoints != 2 {
						t.Fatalf("before tampering: %+v %v", rep, err)
					}
					tc.tamper(f)
					_, err := audit.VerifyStore(context.Background(), f.st, f.keys)
					if !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), tc.seq) {
						t.Fatalf("verify = %v; want it to name %q", err, tc.seq)
					}
				})
			}
		})
	}
}

// A chain rewritten from some entry on (every hash recomputed) no longer
// matches the signed checkpoint covering it; a forged checkpoint does not verify.
func TestRewrittenChainAndForgedCheckpoint(t *testing.T) {
	f := newFixture(t, backends[0].cfg(t), 4)
	f.fill(t, 8)
	es, _ := f.st.ListAuditEntries(context.Background(), store.AuditFilter{})
	prev := es[1].Hash
	for i := 2; i < len(es); i++ {
		e := es[i]
		if i == 2 {
			e.Outcome = "refused"
		}
		e.PrevHash = prev
		e.Hash = audit.EntryHash(e)
		prev = e.Hash
		f.exec(t, `UPDATE audit_events SET outcome = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Outcome, e.PrevHash, e.Hash, e.Seq)
	}
	_, err := audit.VerifyStore(context.Background(), f.st, f.keys)
	if !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "entry 4 ") || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("rewritten chain: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := audit.VerifyStore(context.Background(), f.st, map[string]ed25519.PublicKey{"k1": other}); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("checkpoints under another key: %v", err)
	}
}

func TestExportRoundTripAndConcurrentAppends(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.cfg(t), 7)
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 10; i++ {
						if _, err := f.log.Record(context.Background(), audit.Event{Actor: fmt.Sprint("g", g), Action: "x"}); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			if _, err := f.log.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.VerifyStore(context.Background(), f.st, f.keys)
			if err != nil || rep.Entries != 40 {
				t.Fatalf("%+v %v", rep, err)
			}
			got, _ := f.log.List(context.Background(), store.AuditFilter{Actor: "g1", Limit: 5})
			if len(got) != 5 || got[0].Actor != "g1" {
				t.Fatalf("filter: %+v", got)
			}
			var buf bytes.Buffer
			if err := audit.Export(context.Background(), f.st, f.keys, &buf); err != nil {
				t.Fatal(err)
			}
			if rep2, err := audit.VerifyExport(bytes.NewReader(buf.Bytes()), nil); err != nil || rep2.HeadHash != rep.HeadHash {
				t.Fatalf("export: %+v %v", rep2, err)
			}
			bad := bytes.Replace(buf.Bytes(), []byte(`"Actor":"g2"`), []byte(`"Actor":"g9"`), 1)
			if _, err := audit.VerifyExport(bytes.NewReader(bad), nil); !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("tampered export: %v", err)
			}
		})
	}
}
