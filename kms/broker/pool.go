package broker

import (
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// pool holds pre-fetched DEKs of one key; each leaves the pool once.
type pool struct {
	spec PoolSpec
	ch   chan *kms.DataKey
	kick chan struct{}
}

func newPool(spec PoolSpec) *pool {
	return &pool{spec: spec, ch: make(chan *kms.DataKey, spec.Size), kick: make(chan struct{}, 1)}
}

func (p *pool) len() int { return len(p.ch) }

// matches reports whether every pair of the pool's context is in ec, so a
// pooled DEK never claims an org or policy the recording does not have.
func (p *pool) matches(ec kms.EncryptionContext) bool {
	for k, v := range p.spec.Context {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (p *pool) take() *kms.DataKey {
	select {
	case dk := <-p.ch:
		select {
		case p.kick <- struct{}{}:
		default:
		}
		return dk
	default:
		return nil
	}
}

func (p *pool) wipe() {
	for {
		select {
		case dk := <-p.ch:
			dk.Wipe()
		default:
			return
		}
	}
}

func (b *Broker) fromPool(req Request) *Result {
	b.mu.Lock()
	p := b.pools[req.Key]
	b.mu.Unlock()
	if p == nil || !p.matches(req.Context) {
		return nil
	}
	dk := p.take()
	if dk == nil {
		return nil
	}
	return &Result{DataKey: dk, Key: req.Key, KeyVersion: dk.KeyVersion, Context: p.spec.Context, Pooled: true}
}

// refill keeps p full until the broker stops, backing off while the key
// fails.
func (b *Broker) refill(p *pool) {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	for {
		for len(p.ch) < cap(p.ch) {
			dk, err := b.generate(b.stopCtx, p.spec.Key, p.spec.Context)
			if err != nil {
				select {
				case <-b.stopCtx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			backoff = minBackoff
			p.ch <- dk // only refill sends, and len < cap: never blocks
		}
		select {
		case <-b.stopCtx.Done():
			return
		case <-p.kick:
		}
	}
}
