package broker

import (
	"time"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/secmem"
)

// pool holds pre-fetched DEKs of one key; each leaves the pool once.
type pool struct {
	spec PoolSpec
	ch   chan pooledKey
	kick chan struct{}
}

// pooledKey is a DEK waiting in a pool: its plaintext sits in a secmem
// buffer (out of core dumps, locked where the memlock limit allows), not
// on the Go heap, for as long as it waits.
type pooledKey struct {
	dk  *kms.DataKey // Plaintext nil while pooled
	buf *secmem.Buffer
}

// park moves dk's plaintext into a secmem buffer (clearing the heap copy).
func park(dk *kms.DataKey) (pooledKey, error) {
	buf, err := secmem.From(dk.Plaintext)
	dk.Plaintext = nil
	if err != nil {
		return pooledKey{}, err
	}
	return pooledKey{dk: dk, buf: buf}, nil
}

// unpark hands the DEK out: a heap copy for the recording's writer (which
// wipes it once its keys are derived), the buffer wiped and unmapped.
func (k pooledKey) unpark() *kms.DataKey {
	k.dk.Plaintext = append([]byte(nil), k.buf.Bytes()...)
	_ = k.buf.Close()
	return k.dk
}

func newPool(spec PoolSpec) *pool {
	return &pool{spec: spec, ch: make(chan pooledKey, spec.Size), kick: make(chan struct{}, 1)}
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
	case k := <-p.ch:
		select {
		case p.kick <- struct{}{}:
		default:
		}
		return k.unpark()
	default:
		return nil
	}
}

func (p *pool) wipe() {
	for {
		select {
		case k := <-p.ch:
			_ = k.buf.Close()
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
			k, err := park(dk)
			if err != nil {
				continue // no secmem buffer (mmap failed): the key is dropped, not pooled on the heap
			}
			p.ch <- k // only refill sends, and len < cap: never blocks
		}
		select {
		case <-b.stopCtx.Done():
			return
		case <-p.kick:
		}
	}
}
