package spool

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.create("rec1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Append([]byte("chunk-1")); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Find("rec1"); !ok || e.State != StateOpen || e.Size != 7 {
		t.Fatalf("open entry %+v %v", e, ok)
	}
	if st, _ := os.Stat(s.OpenPath("rec1")); st.Mode().Perm() != 0o600 {
		t.Fatalf("spool file mode %v", st.Mode())
	}
	if err := f.Append([]byte("chunk-2")); err != nil {
		t.Fatal(err)
	}
	if err := f.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := f.Append([]byte("late")); err == nil {
		t.Fatal("append after seal accepted")
	}
	e, ok := s.Find("rec1")
	if !ok || e.State != StateComplete || e.Size != 14 || s.Used() != 14 {
		t.Fatalf("sealed entry %+v used %d", e, s.Used())
	}
	if err := s.Remove(e); err != nil || s.Used() != 0 {
		t.Fatalf("remove: %v, used %d", err, s.Used())
	}
	if _, ok := s.Find("rec1"); ok {
		t.Fatal("removed entry still found")
	}
}

func TestReopenCountsAndOrdersEntries(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 1<<20)
	for i, id := range []string{"b", "a", "c"} {
		f, err := s.create(id)
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Append(make([]byte, 10))
		if id != "c" {
			_ = f.Seal()
		} else {
			_ = f.Abandon() // a crash: recovery will close it
		}
		mt := time.Now().Add(time.Duration(i) * time.Second)
		for _, p := range []string{filepath.Join(dir, id+sealedExt), s.OpenPath(id)} {
			_ = os.Chtimes(p, mt, mt)
		}
	}
	s2, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := s2.Entries()
	if s2.Used() != 30 || len(ents) != 3 || ents[0].ID != "b" || ents[1].ID != "a" || ents[2].State != StateOpen {
		t.Fatalf("entries %+v used %d", ents, s2.Used())
	}
	if err := s2.MarkRecovered("c"); err != nil {
		t.Fatal(err)
	}
	if e, _ := s2.Find("c"); e.State != StateRecovered {
		t.Fatalf("recovered entry %+v", e)
	}
	if err := s2.Remove(Entry{ID: "x", State: StateOpen, Path: filepath.Join(dir, "x.seal")}); err == nil {
		t.Fatal("removing an open file accepted")
	}
}

func TestFullRefusesNewRecordings(t *testing.T) {
	s, _ := Open(t.TempDir(), 16)
	f, _ := s.create("r1")
	if err := f.Append(make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.create("r2"); !errors.Is(err, ErrFull) {
		t.Fatalf("create on a full spool: %v", err)
	}
	if err := f.Discard(); err != nil || s.Used() != 0 {
		t.Fatalf("discard: %v used %d", err, s.Used())
	}
	if _, err := s.create("r2"); err != nil {
		t.Fatalf("create after discard: %v", err)
	}
	if _, err := s.create("../etc"); err == nil {
		t.Fatal("path-like id accepted")
	}
}
