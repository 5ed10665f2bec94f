package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// Deps are the life cycle's collaborators, chosen by the assembly.
type Deps struct {
	OrgID     string
	GatewayID string
	// CallerRegion reads national caller numbers for the index (config
	// org.callerRegion; NormalizeCaller).
	CallerRegion string
	// Spool holds recordings while they are written and until they are
	// stored. Required.
	Spool storage.Spool
	// Objects is where recordings are stored; nil: they stay in the spool
	// (a media test's life cycle).
	Objects storage.Store
	// Index is the recordings index; nil: nothing is indexed.
	Index Index
	// Provider returns the KMS provider of a name, for crash recovery.
	Provider func(name string) (kms.Provider, bool)
	// KMSTimeout bounds one unwrap during recovery.
	KMSTimeout time.Duration
	// UploadRetryMax caps the wait between upload attempts.
	UploadRetryMax time.Duration
	// UploadAttempt bounds one upload attempt, so a hung store is counted
	// as down (default uploader.DefaultAttemptTimeout).
	UploadAttempt time.Duration
	// StorageOutage, when set, is told when the object store starts
	// looking down and when it works again (uploader.Config.Outage: it
	// must not block).
	StorageOutage func(down bool)
	Registerer    prometheus.Registerer
	Logger        *zap.Logger
}

// spoolProbeInterval is how often the spool is probed for writability,
// so a full disk refuses new sessions (and readiness) even with no call
// flushing, and a freed one accepts them again.
const spoolProbeInterval = time.Second

// Service owns every recording of this process.
type Service struct {
	d   Deps
	log *zap.Logger
	m   *metrics
	ix  *indexWriter
	up  *uploader.Uploader // nil without Objects

	mu     sync.Mutex
	queued map[string]*Recording // waiting for upload, by object key
	// stop is closed when Run ends: recoveries in place give up then.
	stop     chan struct{}
	inPlace  sync.WaitGroup
	stopOnce sync.Once
}

// New returns the life cycle; Run must be called for it to work.
func New(d Deps) (*Service, error) {
	if d.Spool == nil {
		return nil, errors.New("recording: Deps.Spool is required")
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	s := &Service{d: d, log: d.Logger, queued: map[string]*Recording{}, stop: make(chan struct{})}
	var err error
	if s.m, err = newMetrics(d.Registerer, d.Spool, func() int { return len(s.ix.q) }); err != nil {
		return nil, err
	}
	s.ix = newIndexWriter(d.Index, d.Logger, s.m)
	if d.Objects != nil {
		cfg := uploader.Config{Store: d.Objects, Done: s.uploaded, Outage: d.StorageOutage,
			MinBackoff: 500 * time.Millisecond, MaxBackoff: d.UploadRetryMax, AttemptTimeout: d.UploadAttempt,
			Logger: slog.New(zapslog.NewHandler(d.Logger.Core()))}
		if d.Registerer != nil {
			cfg.Metrics = uploader.NewMetrics(d.Registerer)
		}
		if s.up, err = uploader.New(cfg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Admit returns nil when a new recording can be taken now; else why not
// (the spool is full or cannot be written, the index is behind).
func (s *Service) Admit() error {
	sp := s.d.Spool
	if sp.Full() {
		return fmt.Errorf("%w (%d bytes held): object storage is not keeping up", storage.ErrSpoolFull, sp.Used())
	}
	if err := sp.WriteErr(); err != nil {
		return err
	}
	if s.ix.behind() {
		return fmt.Errorf("%w: %d writes queued", ErrIndexBehind, len(s.ix.q))
	}
	return nil
}

// IndexCheck is the readiness check of the index writer: "ok", or, while
// it is too far behind to take new recordings (Admit refuses them with
// ErrIndexBehind), how many writes wait for the store, and false.
func (s *Service) IndexCheck() (string, bool) {
	if s.ix.behind() {
		return fmt.Sprintf("behind (%d queued)", len(s.ix.q)), false
	}
	return "ok", true
}

// Begin decides a new recording's id and object key, once: they are
// carried from here to the index row and the stored object. It does no
// I/O; Started then queues the row.
func (s *Service) Begin(st Start) (*Recording, error) {
	id, raw, err := newID()
	if err != nil {
		return nil, err
	}
	return &Recording{svc: s, id: id, sealID: raw, state: Active, start: st,
		key: storage.RecordingKey(s.d.OrgID, st.StartedAt, id)}, nil
}

// Run uploads, writes the index and probes the spool until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	defer s.stopOnce.Do(func() { close(s.stop) })
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	run(func() { s.ix.run(inner) })
	run(func() { s.d.Spool.Watch(inner, spoolProbeInterval) })
	if s.up != nil {
		run(func() { _ = s.up.Run(inner) })
	}
	<-inner.Done()
	wg.Wait()
	s.stopOnce.Do(func() { close(s.stop) })
	s.inPlace.Wait()
	return nil
}

// Drain waits, within ctx, for queued uploads and then the index writes
// they led to.
func (s *Service) Drain(ctx context.Context) error {
	var err error
	if s.up != nil {
		err = s.up.Drain(ctx)
	}
	return errors.Join(err, s.ix.drain(ctx))
}

// Pending counts closed recordings still in the spool (waiting for upload).
func (s *Service) Pending() int {
	ents, _ := s.d.Spool.Entries()
	n := 0
	for _, e := range ents {
		if e.State != storage.SpoolOpen {
			n++
		}
	}
	return n
}
