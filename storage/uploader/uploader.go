// Package uploader moves finished spool files (ciphertext only) into a
// [storage.Store]. Files are uploaded oldest first by a bounded number of
// workers; every failed attempt is retried with exponential backoff and
// jitter, so an outage of the store only grows the backlog. A file counts as
// uploaded only when the object read back (Head, or a full read when the
// backend reports no SHA-256) has the file's size and SHA-256; only then is
// Config.Done called, which lets the spool delete its copy. Nothing is
// dropped silently: a file that can never be uploaded (its key is invalid,
// or it vanished) is reported to Config.Failed, logged and counted.
package uploader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/mediaseal/mediaseal/storage"
)

// Defaults, in one place.
const (
	DefaultConcurrency    = 2
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = time.Minute
	DefaultAttemptTimeout = time.Minute
	// An attempt may take DefaultAttemptFloor plus the time to move the
	// file at DefaultMinRate, capped by AttemptTimeout: a hung store (it
	// accepts connections and never answers) is counted as a timeout after
	// seconds for a call recording, not after a minute.
	DefaultAttemptFloor = 5 * time.Second
	DefaultMinRate      = 1 << 20 // bytes per second
)

// Item is one finished spool file to upload.
type Item struct {
	// Key is the object key, e.g. storage.RecordingKey(org, started, id).
	Key string
	// Path is the spool file (ciphertext).
	Path string
	// Queued orders the backlog: oldest first (then by Key).
	Queued time.Time
	// Options are passed to Put; SHA256 and Size are filled in from the file.
	Options storage.PutOptions
}

// Config configures an Uploader. Zero optional fields mean their defaults.
type Config struct {
	// Store receives the objects. Required.
	Store storage.Store
	// Done is called once an item is confirmed in storage; it typically
	// removes the spool copy. An error makes the uploader call it again
	// later (without uploading again). Required.
	Done func(ctx context.Context, it Item) error
	// Failed, when set, is told about an item given up for good (invalid
	// key, file missing); the file stays where it is.
	Failed func(it Item, err error)
	// Outage, when set, is told when the store starts looking down (an
	// attempt failed as unavailable, timed out or refused while none was
	// failing) and when it works again. It is called with the uploader's
	// lock held, in order: it must not block.
	Outage func(down bool)
	// Concurrency bounds parallel uploads.
	Concurrency int
	// MinBackoff and MaxBackoff bound the wait before retrying an item:
	// MinBackoff doubled per failed attempt, capped, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one attempt (upload and verification): a
	// store that hangs (paused, partitioned) costs at most this long.
	AttemptTimeout time.Duration
	// AttemptFloor and MinRate (bytes per second) make an attempt's
	// deadline proportional to the file's size: AttemptFloor plus
	// size/MinRate, at most AttemptTimeout.
	AttemptFloor time.Duration
	MinRate      int64
	// Metrics may be nil.
	Metrics *Metrics
	// Logger may be nil (no logs). Logs carry keys and sizes, never data.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.AttemptFloor == 0 {
		c.AttemptFloor = DefaultAttemptFloor
	}
	if c.MinRate == 0 {
		c.MinRate = DefaultMinRate
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate names the first bad field and its value.
func (c Config) Validate() error {
	c.setDefaults()
	switch {
	case c.Store == nil:
		return fmt.Errorf("%w: store is required", ErrConfig)
	case c.Done == nil:
		return fmt.Errorf("%w: done callback is required", ErrConfig)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: concurrency %d is below 1", ErrConfig, c.Concurrency)
	case c.MinBackoff < 0 || c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("%w: backoff [%v, %v] is not a range", ErrConfig, c.MinBackoff, c.MaxBackoff)
	case c.AttemptTimeout < 0:
		return fmt.Errorf("%w: attemptTimeout %v is negative", ErrConfig, c.AttemptTimeout)
	case c.AttemptFloor < 0 || c.MinRate < 0:
		return fmt.Errorf("%w: attemptFloor %v and minRate %d must not be negative", ErrConfig, c.AttemptFloor, c.MinRate)
	}
	return nil
}

// entry is an Item with its upload state.
type entry struct {
	Item
	size     int64
	sha256   string // hex, once hashed
	attempts int
	// uploaded means the object is confirmed; only Done remains.
	uploaded  bool
	notBefore time.Time
	inFlight  bool
}

// Uploader uploads spool files; see the package comment.
type Uploader struct {
	cfg Config

	mu      sync.Mutex
	queue   []*entry // sorted oldest first
	keys    map[string]bool
	wake    chan struct{} // closed and replaced when the queue changes
	running bool
	// While the store looks down (unavailable, timeout, access denied) all
	// workers wait until gate, which backs off with each failed probe. Then
	// one worker probes the store with the oldest item while the others
	// wait for its outcome: the oldest recording is the first confirmed
	// once the store is back (a second probe, started at the same time,
	// could finish first: the SDK retries inside an attempt), and a store
	// that is coming back gets one request, not one per worker.
	gate    time.Time
	outages int
	probe   *entry // the attempt in flight while outages > 0, if any
}

// New returns an Uploader; call Run to start it.
func New(cfg Config) (*Uploader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Uploader{cfg: cfg, keys: make(map[string]bool), wake: make(chan struct{})}, nil
}

// Enqueue adds a finished file to the backlog. An item whose key is
// already queued or in flight is ignored, so a spool rescan may enqueue
// everything again.
func (u *Uploader) Enqueue(it Item) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.keys[it.Key] {
		return
	}
	u.keys[it.Key] = true
	e := &entry{Item: it, size: -1}
	i, _ := slices.BinarySearchFunc(u.queue, e, older)
	u.queue = slices.Insert(u.queue, i, e)
	u.changedLocked()
}

// older orders entries by Queued, then Key.
func older(a, b *entry) int {
	if c := a.Queued.Compare(b.Queued); c != 0 {
		return c
	}
	switch {
	case a.Key < b.Key:
		return -1
	case a.Key > b.Key:
		return 1
	}
	return 0
}

// Backlog returns the number of items waiting or in flight.
func (u *Uploader) Backlog() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.queue)
}

// changedLocked wakes waiting workers and updates the backlog gauges.
func (u *Uploader) changedLocked() {
	close(u.wake)
	u.wake = make(chan struct{})
	var bytes int64
	for _, e := range u.queue {
		bytes += max(e.size, 0)
	}
	u.cfg.Metrics.backlog(len(u.queue), bytes)
}

// Drain blocks until the backlog is empty (Run must be running) or ctx
// ends, for a graceful shutdown with a deadline.
func (u *Uploader) Drain(ctx context.Context) error {
	for {
		u.mu.Lock()
		n, wake := len(u.queue), u.wake
		u.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("uploader: drain with %d left: %w", n, ctx.Err())
		case <-wake:
		}
	}
}

// Run uploads until ctx ends, with Config.Concurrency workers, and returns
// nil once they have stopped. Items in flight when ctx ends stay queued.
func (u *Uploader) Run(ctx context.Context) error {
	u.mu.Lock()
	if u.running {
		u.mu.Unlock()
		return ErrRunning
	}
	u.running = true
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.running = false
		u.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for range u.cfg.Concurrency {
		wg.Go(func() { u.work(ctx) })
	}
	wg.Wait()
	return nil
}

// work takes the oldest eligible entry, tries it, and repeats until ctx ends.
func (u *Uploader) work(ctx context.Context) {
	for {
		e, wait, wake := u.next()
		if e == nil {
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		err := u.attempt(ctx, e)
		if ctx.Err() != nil {
			u.release(e) // stopped, not failed: try again next Run
			return
		}
		if gaveUp := u.settle(e, err); gaveUp {
			// Reported before it leaves the backlog, so Drain returns after.
			if u.cfg.Failed != nil {
				u.cfg.Failed(e.Item, err)
			}
			u.mu.Lock()
			u.removeLocked(e)
			u.changedLocked()
			u.mu.Unlock()
		}
	}
}

// next returns the oldest eligible entry (marked in flight), or how long to
// wait for one and a channel that signals a change.
func (u *Uploader) next() (*entry, time.Duration, <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if now.Before(u.gate) {
		return nil, u.gate.Sub(now), u.wake
	}
	if u.probe != nil && u.outages > 0 {
		return nil, time.Hour, u.wake // the probe's settle wakes us
	}
	wait := time.Hour
	for _, e := range u.queue {
		if e.inFlight {
			continue
		}
		if !e.notBefore.After(now) {
			e.inFlight = true
			if u.outages > 0 {
				u.probe = e
			}
			return e, 0, nil
		}
		wait = min(wait, e.notBefore.Sub(now))
	}
	return nil, wait, u.wake
}

// release puts an entry back without counting a failure.
func (u *Uploader) release(e *entry) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e.inFlight = false
	u.endProbeLocked(e)
}

// endProbeLocked ends e's probe, if it is one, and wakes the workers that
// wait for its outcome.
func (u *Uploader) endProbeLocked(e *entry) {
	if u.probe == e {
		u.probe = nil
		u.changedLocked()
	}
}

// settle records the outcome of an attempt; it reports whether the item
// was given up for good (the caller reports and removes it).
func (u *Uploader) settle(e *entry, err error) (gaveUp bool) {
	log := u.cfg.Logger.With("key", e.Key, "attempt", e.attempts)
	u.mu.Lock()
	defer u.mu.Unlock()
	e.inFlight = false
	defer u.endProbeLocked(e) // after gate and outages are updated
	if err == nil {
		u.removeLocked(e)
		if u.outages > 0 && u.cfg.Outage != nil {
			u.cfg.Outage(false)
		}
		u.gate, u.outages = time.Time{}, 0 // the store works again
		u.changedLocked()
		log.Info("uploaded", "bytes", e.size)
		return false
	}
	kind := kindOf(err)
	u.cfg.Metrics.failed(kind)
	if permanent(kind) {
		e.inFlight = true // until removed
		log.Error("upload given up; the spool file stays", "kind", kind, "err", err)
		return true
	}
	var d time.Duration
	if outage(kind) {
		if u.outages == 0 && u.cfg.Outage != nil {
			u.cfg.Outage(true)
		}
		u.outages++
		d = u.backoff(u.outages)
		u.gate = time.Now().Add(d)
	} else {
		d = u.backoff(e.attempts)
		e.notBefore = time.Now().Add(d)
	}
	log.Warn("upload failed; will retry", "kind", kind, "retry_in", d, "err", err)
	return false
}

func (u *Uploader) removeLocked(e *entry) {
	if i := slices.Index(u.queue, e); i >= 0 {
		u.queue = slices.Delete(u.queue, i, i+1)
	}
	delete(u.keys, e.Key)
}

// backoff is MinBackoff·2^(attempts-1) capped at MaxBackoff, with "equal
// jitter" (half fixed, half random) so retries of many files spread out.
func (u *Uploader) backoff(attempts int) time.Duration {
	d := u.cfg.MaxBackoff
	if attempts < 32 {
		d = min(u.cfg.MinBackoff<<max(attempts-1, 0), u.cfg.MaxBackoff)
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// kindOf names the class of a failure for metrics and retry decisions.
func kindOf(err error) string {
	switch {
	case errors.Is(err, errMissing):
		return "missing"
	case errors.Is(err, storage.ErrInvalidKey):
		return "invalid_key"
	case errors.Is(err, errDone):
		return "done"
	case errors.Is(err, storage.ErrChecksum), errors.Is(err, ErrVerify):
		return "checksum"
	case errors.Is(err, storage.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, storage.ErrAccessDenied):
		return "access_denied"
	}
	return "other"
}

// outage kinds concern the store as a whole, not the item.
func outage(kind string) bool {
	return kind == "unavailable" || kind == "timeout" || kind == "access_denied"
}

// permanent kinds are never retried: retrying cannot change the outcome.
func permanent(kind string) bool { return kind == "missing" || kind == "invalid_key" }
