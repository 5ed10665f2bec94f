package gateway

import (
	"sync"
	"time"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// meteredObserver times what the media manager reports (first durable
// chunk per session, every flush) and passes each event on to the indexer.
type meteredObserver struct {
	ix      *indexer
	durable sync.Map // *media.Session → struct{}: sessions that were durable once
}

var (
	_ media.Observer      = (*meteredObserver)(nil)
	_ media.FlushObserver = (*meteredObserver)(nil)
)

func meter(ix *indexer) *meteredObserver { return &meteredObserver{ix: ix} }

// SessionStarted implements media.Observer.
func (o *meteredObserver) SessionStarted(s *media.Session) { o.ix.SessionStarted(s) }

// KeyReady implements media.Observer.
func (o *meteredObserver) KeyReady(s *media.Session, env seal.Envelope, reason string) {
	o.ix.KeyReady(s, env, reason)
}

// KeyFailed implements media.Observer.
func (o *meteredObserver) KeyFailed(s *media.Session, err error) { o.ix.KeyFailed(s, err) }

// Durable implements media.Observer.
func (o *meteredObserver) Durable(s *media.Session, bytes int64) {
	if _, seen := o.durable.LoadOrStore(s, struct{}{}); !seen && o.ix.metrics != nil {
		o.ix.metrics.firstDurable.Observe(time.Since(s.StartedAt).Seconds())
	}
	o.ix.Durable(s, bytes)
}

// SessionEnded implements media.Observer.
func (o *meteredObserver) SessionEnded(s *media.Session, sum media.Summary) {
	o.durable.Delete(s)
	o.ix.SessionEnded(s, sum)
}

// Flushed implements media.FlushObserver.
func (o *meteredObserver) Flushed(_ *media.Session, ft media.FlushTiming) {
	x := o.ix.metrics
	if x == nil {
		return
	}
	if ft.Err != nil {
		x.flushErrors.Inc()
		return
	}
	x.flushSeconds.Observe(ft.Took.Seconds())
	if !ft.Due.IsZero() {
		x.flushDelay.Observe(ft.Done.Sub(ft.Due).Seconds())
	}
}
