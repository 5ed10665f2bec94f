package broker

import (
	"sync"
	"time"
)

// State is a circuit breaker state.
type State int

// Breaker states; the numbers are the values of the state gauge.
const (
	Closed State = iota
	HalfOpen
	Open
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	}
	return "unknown"
}

// breaker is one key's circuit breaker. Safe for concurrent use.
type breaker struct {
	failures int           // consecutive failures that open it
	cooldown time.Duration // how long it stays open before a probe

	mu       sync.Mutex
	state    State
	count    int
	openedAt time.Time
	probing  bool
}

// allow reports whether a request may call the KMS now; probe is true for
// the single half-open trial request.
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Closed:
		return true, false
	case Open:
		if now.Sub(b.openedAt) < b.cooldown {
			return false, false
		}
		b.state, b.probing = HalfOpen, true
		return true, true
	default: // HalfOpen: one probe at a time
		if b.probing {
			return false, false
		}
		b.probing = true
		return true, true
	}
}

// success records a KMS answer; it closes the breaker.
func (b *breaker) success() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.count, b.probing = Closed, 0, false
	return b.state
}

// failure records an availability failure.
func (b *breaker) failure(now time.Time) State {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case HalfOpen:
		b.state, b.openedAt, b.probing = Open, now, false
	case Closed:
		b.count++
		if b.count >= b.failures {
			b.state, b.openedAt = Open, now
		}
	}
	return b.state
}

// release gives up a probe slot without a verdict (the caller went away).
func (b *breaker) release(probe bool) {
	if !probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *breaker) current() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
