package broker

import (
	"sync"
	"time"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/secmem"
)

// pool holds pre-fetched DEKs of one key; each leaves the pool once.
// slots counts the DEKs pooled or being generated: a refill worker takes a
// slot before it asks the KMS and take frees one, so the workers keep the
// pool full without ever overfilling it.
type pool struct {
	spec  PoolSpec
	ch    chan pooledKey
	slots chan struct{}
	// stop ends this pool's refill workers (RetirePool); workers counts them.
	stop    chan struct{}
	workers sync.WaitGroup
}

// pooledKey is a DEK waiting in a pool: its plaintext sits in a secmem
// buffer (out of core dumps, locked where the memlock limit allows), not
// on the Go heap, for as long as it waits.
type pooledKey struct {
	dk  *kms.DataKey // Plaintext nil while pooled
	buf *secmem.Buffer
	ec  kms.EncryptionContext // what this DEK is wrapped under
}

// park moves dk's plaintext into a secmem buffer (clearing the heap copy).
func park(dk *kms.DataKey, ec kms.EncryptionContext) (pooledKey, error) {
	buf, err := secmem.From(dk.Plaintext)
	dk.Plaintext = nil
	if err != nil {
		return pooledKey{}, err
	}
	return pooledKey{dk: dk, buf: buf, ec: ec}, nil
}

// unpark hands the DEK out: a heap copy for the recording's writer (which
// wipes it once its keys are derived), the buffer wiped and unmapped.
func (k pooledKey) unpark() *kms.DataKey {
	k.dk.Plaintext = append([]byte(nil), k.buf.Bytes()...)
	_ = k.buf.Close()
	return k.dk
}

func newPool(spec PoolSpec) *pool {
	return &pool{spec: spec, ch: make(chan pooledKey, spec.Size), slots: make(chan struct{}, spec.Size), stop: make(chan struct{})}
}

// context is the encryption context of the next pooled DEK.
func (p *pool) context() (kms.EncryptionContext, error) {
	if p.spec.NewContext != nil {
		return p.spec.NewContext()
	}
	return p.spec.Context, nil
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

func (p *pool) take() (*kms.DataKey, kms.EncryptionContext) {
	select {
	case k := <-p.ch:
		<-p.slots // a refill worker may generate the next one
		return k.unpark(), k.ec
	default:
		return nil, nil
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
	dk, ec := p.take()
	if dk == nil {
		return nil
	}
	return &Result{DataKey: dk, Key: req.Key, KeyVersion: dk.KeyVersion, Context: ec, Pooled: true}
}

// refillWorkers is how many DEKs of one pool may be generated at once, so
// that a pool drained by a burst of calls refills in a few KMS round trips
// rather than one round trip per DEK.
const refillWorkers = 4

// refill keeps p full until the broker stops, backing off while the key
// fails. Several run per pool.
func (b *Broker) refill(p *pool) {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	for {
		select {
		case <-b.stopCtx.Done():
			return
		case <-p.stop:
			return
		case p.slots <- struct{}{}:
		}
		ec, err := p.context()
		var dk *kms.DataKey
		if err == nil {
			dk, err = b.generate(b.stopCtx, p.spec.Key, ec)
		}
		if err != nil {
			<-p.slots
			select {
			case <-b.stopCtx.Done():
				return
			case <-p.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		k, err := park(dk, ec)
		if err != nil {
			<-p.slots
			continue // no secmem buffer (mmap failed): the key is dropped, not pooled on the heap
		}
		p.ch <- k // a slot is held for it: never blocks
	}
}

// DrainPool wipes the DEKs key's pool holds (it refills at once): after a
// rotation, so that new recordings get DEKs wrapped under the new version
// rather than the pooled ones of the old. No pool: nothing happens.
func (b *Broker) DrainPool(key kms.KeyRef) {
	b.mu.Lock()
	p := b.pools[key]
	b.mu.Unlock()
	if p == nil {
		return
	}
	for {
		select {
		case k := <-p.ch:
			_ = k.buf.Close()
			<-p.slots
		default:
			return
		}
	}
}

// RetirePool removes key's pool: its pooled DEKs are wiped now and its
// refills stop, for a key that was disabled, scheduled for deletion or
// shredded. Draining is not enough there: the refills would keep fetching
// DEKs under a key no session may use (where the provider still grants
// them) and hold their plaintext until shutdown. A later EnsurePool (the
// key enabled again) starts a new pool. No pool: nothing happens.
func (b *Broker) RetirePool(key kms.KeyRef) {
	b.mu.Lock() // as Close: no wg.Add once Close waits
	p := b.pools[key]
	delete(b.pools, key)
	closing := b.stopCtx.Err() != nil
	if p != nil && !closing {
		b.wg.Add(1)
	}
	b.mu.Unlock()
	if p == nil {
		return
	}
	close(p.stop)
	p.wipe()
	// A refill in flight may still park one DEK: wiped once it is done,
	// without holding up the caller for a KMS round trip.
	finish := func() {
		p.workers.Wait()
		p.wipe()
	}
	if closing { // the workers are stopping with the broker
		finish()
		return
	}
	go func() { defer b.wg.Done(); finish() }()
}
