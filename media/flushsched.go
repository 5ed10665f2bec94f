package media

import (
	"container/heap"
	"sync"
	"time"
)

// flushSchedule orders the recorded sessions by when their next flush
// falls due, so that a tick (every 10 ms) touches only the sessions due
// rather than every live one: a scan of thousands of sessions a hundred
// times a second, each a cold read of a session another core writes with
// every packet, cost more CPU than the flushes it found.
type flushSchedule struct {
	// mu guards added, the sessions Create hands in; the heap itself
	// belongs to the goroutine that ticks.
	mu    sync.Mutex
	added []flushEntry
	due   flushHeap
}

type flushEntry struct {
	at int64 // unix ns
	s  *Session
}

// add schedules s's first flush at at (any goroutine).
func (f *flushSchedule) add(s *Session, at time.Time) {
	f.mu.Lock()
	f.added = append(f.added, flushEntry{at.UnixNano(), s})
	f.mu.Unlock()
}

// take calls fn with every session whose flush is due at now and when it
// fell due, and schedules its next flush one interval after now; sessions
// that have ended leave the schedule.
func (f *flushSchedule) take(now time.Time, interval time.Duration, fn func(s *Session, due time.Time)) {
	f.mu.Lock()
	for _, e := range f.added {
		heap.Push(&f.due, e)
	}
	clear(f.added)
	f.added = f.added[:0]
	f.mu.Unlock()
	next := now.Add(interval).UnixNano()
	for len(f.due) > 0 && f.due[0].at <= now.UnixNano() {
		e := f.due[0]
		select {
		case <-e.s.ended:
			heap.Pop(&f.due)
			continue
		default:
		}
		f.due[0].at = next
		heap.Fix(&f.due, 0)
		fn(e.s, time.Unix(0, e.at))
	}
}

// flushHeap is a min-heap of flushEntry by at (container/heap).
type flushHeap []flushEntry

func (h flushHeap) Len() int           { return len(h) }
func (h flushHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h flushHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *flushHeap) Push(x any)        { *h = append(*h, x.(flushEntry)) }
func (h *flushHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = flushEntry{} // the ended session is not kept alive
	*h = old[:len(old)-1]
	return e
}
