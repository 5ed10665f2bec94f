package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowCommit wraps the real commit with a delay, so that concurrent
// appenders pile up behind a running commit as they do under load.
func slowCommit(d time.Duration, calls *atomic.Int64) func(string, *os.File) error {
	return func(dir string, f *os.File) error {
		calls.Add(1)
		time.Sleep(d)
		return commitFS(dir, f)
	}
}

// groupSpool opens a spool in a temp dir where appends share commits.
func groupSpool(t *testing.T) *Spool {
	t.Helper()
	if !groupCommit {
		t.Skip("per-file sync on this platform")
	}
	s, err := Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGroupCommitIsShared(t *testing.T) {
	s := groupSpool(t)
	var calls atomic.Int64
	s.commit.sync = slowCommit(5*time.Millisecond, &calls)
	const files, appends = 200, 5
	var wg sync.WaitGroup
	errs := make(chan error, files*appends)
	for i := range files {
		f, err := s.create(fmt.Sprintf("rec%d", i))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for j := range appends {
				if err := f.Append(bytes.Repeat([]byte{byte(j)}, 100)); err != nil {
					errs <- err
				}
			}
			errs <- f.Seal()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := s.Entries()
	for _, e := range ents {
		if e.Size != appends*100 || e.State != StateComplete {
			t.Fatalf("%s: %d bytes, %s", e.ID, e.Size, e.State)
		}
	}
	// 1,000 appends; with per-append commits there would be 1,000.
	if n := calls.Load(); n > files*appends/4 || s.Commits() != n {
		t.Fatalf("%d commits for %d appends (Commits() %d)", n, files*appends, s.Commits())
	}
}

// An append that arrives while a commit is running must wait for the next
// one: the running commit may have started before its write.
func TestAppendWaitsForACommitStartedAfterIt(t *testing.T) {
	s := groupSpool(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	var calls atomic.Int64
	s.commit.sync = func(dir string, f *os.File) error {
		calls.Add(1)
		entered <- struct{}{}
		<-release
		return commitFS(dir, f)
	}
	a, _ := s.create("a")
	b, _ := s.create("b")
	aDone := make(chan error, 1)
	go func() { aDone <- a.Append([]byte("a")) }()
	<-entered // commit 1 runs, started before b's write
	bDone := make(chan error, 1)
	go func() { bDone <- b.Append([]byte("b")) }()
	time.Sleep(20 * time.Millisecond) // b has written and waits
	release <- struct{}{}             // commit 1 ends
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-bDone:
		t.Fatalf("b returned (%v) after a commit that began before its write", err)
	case <-entered: // b starts commit 2
	}
	release <- struct{}{}
	if err := <-bDone; err != nil || calls.Load() != 2 {
		t.Fatalf("b: %v after %d commits", err, calls.Load())
	}
}

// A failed commit fails every append that waited on it; each rolls back its
// write, so a retry leaves the bytes in the file exactly once.
func TestFailedCommitRollsBackEveryWaiter(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	eio := errors.New("injected EIO")
	var fail atomic.Bool
	fail.Store(true)
	s.commit.sync = func(dir string, f *os.File) error {
		if fail.Load() {
			time.Sleep(10 * time.Millisecond) // let several appenders join
			return eio
		}
		return commitFS(dir, f)
	}
	if !groupCommit {
		t.Skip("per-file sync on this platform: the injected commit is not used")
	}
	files := make([]*File, 8)
	var wg sync.WaitGroup
	for i := range files {
		files[i], _ = s.create(fmt.Sprintf("f%d", i))
		wg.Go(func() {
			if err := files[i].Append([]byte("chunk")); !errors.Is(err, eio) {
				t.Errorf("append %d: %v, want the commit's error", i, err)
			}
		})
	}
	wg.Wait()
	fail.Store(false)
	for i, f := range files {
		if f.Size() != 0 {
			t.Fatalf("file %d counts %d bytes durable after a failed commit", i, f.Size())
		}
		if err := f.Append([]byte("chunk")); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(s.OpenPath(f.ID()))
		if string(got) != "chunk" {
			t.Fatalf("file %d after retry: %q", i, got)
		}
	}
	if s.Used() != int64(5*len(files)) {
		t.Fatalf("used %d", s.Used())
	}
}

// With CommitPerFile every append syncs its own file: as many commits as
// appends, and the filesystem commit is never used.
func TestCommitPerFile(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<30, CommitPerFile())
	if err != nil {
		t.Fatal(err)
	}
	var fsCommits atomic.Int64
	s.commit.sync = slowCommit(0, &fsCommits)
	var wg sync.WaitGroup
	for i := range 20 {
		f, err := s.create(fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for range 3 {
				if err := f.Append([]byte("x")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if s.Commits() != 60 || fsCommits.Load() != 0 {
		t.Fatalf("%d commits (%d of the filesystem) for 60 appends", s.Commits(), fsCommits.Load())
	}
}

// An append written while a commit gathers (its sync not yet begun) joins
// that commit instead of waiting for the next one.
func TestAppendJoinsAGatheringCommit(t *testing.T) {
	s := groupSpool(t)
	var calls atomic.Int64
	s.commit.sync = slowCommit(0, &calls)
	s.commit.gather = 200 * time.Millisecond
	a, _ := s.create("a")
	b, _ := s.create("b")
	done := make(chan error, 2)
	go func() { done <- a.Append([]byte("a")) }()
	time.Sleep(50 * time.Millisecond) // a leads and gathers
	go func() { done <- b.Append([]byte("b")) }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d commits for two appends written while one gathered, want 1", n)
	}
}
