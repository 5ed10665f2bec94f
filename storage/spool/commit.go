package spool

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// errDurabilityUnknown is returned to an appender whose commit's outcome
// was overwritten before it could read it; the append is rolled back and
// retried, which is always safe.
var errDurabilityUnknown = errors.New("spool: commit outcome lost")

// defaultGather is the leader's wait before a commit: at 2,000 recordings
// flushing once a second (two flushes a millisecond) it lets a few more
// appends share each syncfs, for at most this much more flush latency.
const defaultGather = 2 * time.Millisecond

// resultRing is how many recent commit outcomes are remembered.
const resultRing = 64

// committer makes appends durable in groups. An append writes to the page
// cache, then waits for the first commit that starts after its write; all
// appends waiting for the same commit share it. On Linux a commit is one
// syncfs(2) of the spool's filesystem instead of one fdatasync per file:
// with thousands of recordings flushing every second this is the difference
// between thousands of journal commits and device flushes per second and a
// few dozen (see BenchmarkAppend). Elsewhere each file is synced on its own.
//
// Commits run one at a time, in order, by whichever waiter finds none
// running (no goroutine of its own).
type committer struct {
	dir  string
	sync func(dir string, f *os.File) error // the commit; tests inject faults
	// perFile syncs each file on its own (the baseline of BenchmarkAppend,
	// and the behaviour where syncfs does not exist).
	perFile bool
	// gather is how long a commit's leader waits before it starts, so that
	// appends written meanwhile join it instead of the next one.
	gather time.Duration

	mu      sync.Mutex
	cond    sync.Cond
	started uint64 // commits started
	done    uint64 // commits finished (they finish in order)
	running bool
	// gathering: commit `started` has a leader but has not begun its
	// sync; an append written now is covered by it.
	gathering bool
	results   [resultRing]error // outcome of commit n at n % resultRing

	commits atomic.Int64
}

func newCommitter(dir string) *committer {
	c := &committer{dir: dir, sync: commitFS, perFile: !groupCommit, gather: defaultGather}
	c.cond.L = &c.mu
	return c
}

// wait returns once everything written to f before the call is durable,
// or with the error of the commit that should have made it so. f is the
// file written, for platforms that sync per file.
func (c *committer) wait(f *os.File) error {
	if c.perFile {
		c.commits.Add(1)
		return f.Sync()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A commit that is running may have started before the write: only the
	// next one to start is certain to cover it — unless it is still
	// gathering, i.e. its sync has not begun.
	target := c.started + 1
	if c.gathering {
		target = c.started
	}
	for c.done < target {
		if c.running {
			c.cond.Wait()
			continue
		}
		c.running = true
		c.started++
		n := c.started
		if c.gather > 0 {
			c.gathering = true
			c.mu.Unlock()
			time.Sleep(c.gather)
			c.mu.Lock()
			c.gathering = false
		}
		c.mu.Unlock()
		err := c.sync(c.dir, f)
		c.commits.Add(1)
		c.mu.Lock()
		c.results[n%resultRing] = err
		c.done = n
		c.running = false
		c.cond.Broadcast()
	}
	if c.done-target >= resultRing {
		return errDurabilityUnknown
	}
	return c.results[target%resultRing]
}
