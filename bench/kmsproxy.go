package bench

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DelayProxy is a loopback TCP proxy that holds every chunk a client sends
// for a fixed delay before passing it on; replies flow back at once. In
// front of an HTTP KMS each request therefore arrives Delay later, while
// requests on other connections (and pipelined ones) are not serialised
// behind it: the delay is a line, not a queue.
type DelayProxy struct {
	Addr   string // 127.0.0.1:port clients connect to
	target string
	delay  atomic.Int64 // nanoseconds
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	rtt    Hist // per request: first byte in from the client to first byte of the reply
}

// StartDelayProxy listens on a free loopback port and forwards to target
// (host:port), delaying client-to-server data by delay.
func StartDelayProxy(target string, delay time.Duration) (*DelayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &DelayProxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.delay.Store(int64(delay))
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// RoundTrips summarises, per request, the time from the client's first
// byte reaching the proxy to the first byte of the reply: the KMS latency
// the gateway saw, injected delay included.
func (p *DelayProxy) RoundTrips() Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rtt.Summarize()
}

// SetDelay changes the delay of data read from now on.
func (p *DelayProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Close stops listening, closes every connection and waits for them.
func (p *DelayProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *DelayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *DelayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *DelayProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *DelayProxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg      sync.WaitGroup
		pending atomic.Int64 // arrival (Unix ns) of the unanswered request, 0 if none
	)
	wg.Add(2)
	go func() { // replies: straight through
		defer wg.Done()
		p.replies(client, server, &pending)
		client.Close()
		cancel()
	}()
	go func() {
		defer wg.Done()
		p.delayed(ctx, server, client, &pending)
		server.Close()
	}()
	wg.Wait()
}

// chunk is data read from the client and when it may be forwarded.
type chunk struct {
	data []byte
	due  time.Time
}

// delayed reads src and writes each chunk to dst once its delay has passed;
// a reader goroutine timestamps chunks as they arrive, so a chunk read
// while an earlier one waits is delayed from its own arrival.
func (p *DelayProxy) delayed(ctx context.Context, dst io.Writer, src io.Reader, pending *atomic.Int64) {
	line := make(chan chunk, 64)
	go func() {
		defer close(line)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				now := time.Now()
				pending.CompareAndSwap(0, now.UnixNano())
				select {
				case line <- chunk{buf[:n], now.Add(time.Duration(p.delay.Load()))}:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range line {
		if wait := time.Until(c.due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// replies copies src to dst and, on the first bytes after a request,
// records its round trip.
func (p *DelayProxy) replies(dst io.Writer, src io.Reader, pending *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if t := pending.Swap(0); t != 0 {
				d := time.Now().UnixNano() - t
				p.mu.Lock()
				p.rtt.Add(d)
				p.mu.Unlock()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
