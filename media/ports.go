package media

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/mediaseal/mediaseal/media/udprx"
)

// portPool hands out UDP ports from a configured range. RTP takes even
// ports, RTCP the odd port above (RFC 3550 §11).
//
// Pairs are chosen at random, not in sequence: with sequential ports a
// host that has seen one session's port knows the next call's and can
// send to it before the real sender does. The generator is ChaCha8 seeded
// from crypto/rand (unpredictable, and a few ns per draw, so the bench
// harness's thousands of sessions do not notice it).
type portPool struct {
	addr     netip.Addr
	min, max int
	pairs    int // even ports in [min, max-1]

	mu   sync.Mutex
	rng  *rand.Rand
	used []bool // by pair index: port = min + 2*i
	busy int
}

// randomProbes is how many random pairs are tried before a linear scan
// from a random start: with a fraction f of the range in use, a random
// probe finds a free pair with probability 1-f, so 8 probes miss only when
// the range is almost full, and the scan then still finds any free pair.
const randomProbes = 8

func newPortPool(addr netip.Addr, lo, hi int) *portPool {
	if lo%2 == 1 {
		lo++
	}
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic(fmt.Sprintf("media: crypto/rand: %v", err)) // the OS has no entropy: nothing is safe
	}
	pairs := max(0, (hi-lo+1)/2)
	return &portPool{addr: addr, min: lo, max: hi, pairs: pairs, rng: rand.New(rand.NewChaCha8(seed)), used: make([]bool, pairs)}
}

// pick reserves a free pair chosen at random and returns its RTP port, or
// false when every pair is taken. p.mu must be held.
func (p *portPool) pick(skip map[int]bool) (int, bool) {
	if p.busy+len(skip) >= p.pairs {
		return 0, false
	}
	free := func(i int) bool { return !p.used[i] && !skip[i] }
	i := -1
	for range randomProbes {
		if j := p.rng.IntN(p.pairs); free(j) {
			i = j
			break
		}
	}
	if i < 0 {
		start := p.rng.IntN(p.pairs)
		for k := range p.pairs {
			if j := (start + k) % p.pairs; free(j) {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return 0, false
	}
	p.used[i] = true
	p.busy++
	return p.min + 2*i, true
}

// listenPair binds an RTP socket on a random free even port and RTCP on
// the next one, skipping ports the OS refuses (in use by another process).
func (p *portPool) listenPair(in *udprx.Set, rcvbuf int) (rtpSock, rtcpSock *udprx.Socket, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var refused map[int]bool // pairs the OS refused during this call
	for {
		port, ok := p.pick(refused)
		if !ok {
			return nil, nil, fmt.Errorf("%w: no free RTP port pair in %d-%d", ErrCapacity, p.min, p.max)
		}
		rtpSock, err = in.Listen(netip.AddrPortFrom(p.addr, uint16(port)), rcvbuf)
		if err == nil {
			rtcpSock, err = in.Listen(netip.AddrPortFrom(p.addr, uint16(port+1)), 0)
			if err == nil {
				return rtpSock, rtcpSock, nil
			}
			rtpSock.Close(false)
		}
		p.releaseLocked(port)
		if refused == nil {
			refused = map[int]bool{}
		}
		refused[(port-p.min)/2] = true
	}
}

func (p *portPool) release(port int) {
	p.mu.Lock()
	p.releaseLocked(port)
	p.mu.Unlock()
}

func (p *portPool) releaseLocked(port int) {
	if i := (port - p.min) / 2; i >= 0 && i < p.pairs && p.used[i] {
		p.used[i] = false
		p.busy--
	}
}
