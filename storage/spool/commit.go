package spool

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
)

// errDurabilityUnknown is returned to an appender whose commit's outcome
// was overwritten before it could read it; the append is rolled back and
// retried, which is always safe.
var errDurabilityUnknown = errors.New("spool: commit outcome lost")

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

	mu      sync.Mutex
	cond    sync.Cond
	started uint64 // commits started
	done    uint64 // commits finished (they finish in order)
	running bool
	results [resultRing]error // outcome of commit n at n % resultRing

	commits atomic.Int64
}

func newCommitter(dir string) *committer {
	c := &committer{dir: dir, sync: commitFS, perFile: !groupCommit}
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
	// next one to start is certain to cover it.
	target := c.started + 1
	for c.done < target {
		if c.running {
			c.cond.Wait()
			continue
		}
		c.running = true
		c.started++
		n := c.started
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
