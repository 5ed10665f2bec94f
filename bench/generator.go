package bench

import (
	"context"
	"errors"
	"fmt"

	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	pion "github.com/pion/srtp/v3"
)

// batchSize is the most datagrams handed to one sendmmsg.
const batchSize = 64

// minSleep is the shortest sleep of a worker: it wakes at most this often
// and then sends everything due. Waking for every single packet (every
// 10 µs per worker at 100,000 packets per second) costs a timer and a
// thread wake-up per packet — more CPU than the send itself — and leaves
// each sendmmsg with one datagram. A packet is therefore up to minSleep
// late by design, far below the validity bound (ptime/2).
const minSleep = 500 * time.Microsecond

// Stream is one RTP flow the generator sends.
type Stream struct {
	Dest  netip.AddrPort
	SSRC  uint32
	Start time.Duration // offset from the generator start (ramp)
	phase time.Duration // offset within the packet period
	pkt   []byte
	raw   rawAddr
	// enc encrypts each packet as SRTP into wire (--srtp); nil: pkt is sent.
	enc  *pion.Context
	wire []byte
	next uint32 // next packet index
	sent uint32
}

// GenConfig paces the generator.
type GenConfig struct {
	Codec   Codec
	Ptime   time.Duration
	Packets uint32 // per stream
	Workers int    // sending goroutines (one per core by default)
	// Nice is the nice value of the sending threads (Linux; 0 leaves it).
	// The generator stands in for media servers on other machines: raised
	// above the gateway it keeps its schedule when the two share cores, and
	// the gateway gets what is left, as it would in production.
	Nice int
	// Progress, when set, is called about every 100 ms with packets sent so far.
	Progress func(sent int64)
}

// GenResult is what the generator did.
type GenResult struct {
	Sent      int64         // datagrams the kernel accepted
	SendErrs  int64         // datagrams refused (ENOBUFS, ...)
	Elapsed   time.Duration // first send to last send
	Lateness  Hist          // send time minus schedule, per packet
	Nice      int           // nice value the sending threads ran at
	NiceErr   error         // why Nice could not be set (then they ran at 0)
	PerStream []uint32      // packets sent per stream, in stream order
}

// Generator sends paced RTP from precomputed per-stream packets: one
// goroutine per worker sends every due packet of its streams with one
// sendmmsg per batch, then sleeps until the next one is due.
type Generator struct {
	cfg     GenConfig
	streams []*Stream
}

// NewGenerator prepares dests (one per stream). Streams are spread evenly
// over the packet period so the load is smooth, not one burst per ptime.
func NewGenerator(cfg GenConfig, streams []*Stream) (*Generator, error) {
	if cfg.Ptime <= 0 || cfg.Packets == 0 || len(streams) == 0 {
		return nil, fmt.Errorf("%w: ptime %s, packets %d, streams %d", ErrConfig, cfg.Ptime, cfg.Packets, len(streams))
	}
	cfg.Workers = max(cfg.Workers, 1)
	for i, s := range streams {
		s.phase = time.Duration(int64(cfg.Ptime) * int64(i) / int64(len(streams)))
		s.pkt = newPacket(cfg.Codec, cfg.Ptime, s.SSRC)
		s.raw = newRawAddr(s.Dest)
		s.next, s.sent = 0, 0
	}
	return &Generator{cfg: cfg, streams: streams}, nil
}

// Run sends until every stream has sent its packets or ctx is done.
func (g *Generator) Run(ctx context.Context) (GenResult, error) {
	var res GenResult
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		errs     []error
		progress atomic.Int64
	)
	start := time.Now().Add(100 * time.Millisecond) // let every worker get ready
	done := make(chan struct{})
	if g.cfg.Progress != nil {
		go func() {
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					g.cfg.Progress(progress.Load())
				}
			}
		}()
	}
	for w := range g.cfg.Workers {
		var mine []*Stream
		for i := w; i < len(g.streams); i += g.cfg.Workers {
			mine = append(mine, g.streams[i])
		}
		if len(mine) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.work(ctx, start, mine, &progress)
			mu.Lock()
			defer mu.Unlock()
			res.Sent += r.Sent
			res.SendErrs += r.SendErrs
			res.Lateness.Merge(&r.Lateness)
			res.Elapsed = max(res.Elapsed, r.Elapsed)
			res.Nice, res.NiceErr = r.Nice, r.NiceErr
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	close(done)
	if g.cfg.Progress != nil {
		g.cfg.Progress(progress.Load())
	}
	res.PerStream = make([]uint32, len(g.streams))
	for i, s := range g.streams {
		res.PerStream[i] = s.sent
	}
	return res, errors.Join(errs...)
}

// due is a stream's next send time.
func (g *Generator) due(start time.Time, s *Stream) time.Time {
	first := s.Start.Truncate(g.cfg.Ptime) + s.phase
	return start.Add(first + time.Duration(s.next)*g.cfg.Ptime)
}

func (g *Generator) work(ctx context.Context, start time.Time, streams []*Stream, progress *atomic.Int64) (GenResult, error) {
	var res GenResult
	restore, err := prioritize(g.cfg.Nice)
	if err != nil {
		res.NiceErr = fmt.Errorf("generator nice %d: %w", g.cfg.Nice, err)
	} else {
		res.Nice = g.cfg.Nice
	}
	defer restore()
	snd, err := newSender(streams[0].Dest, batchSize)
	if err != nil {
		return res, err
	}
	defer snd.close()
	batch := make([]*Stream, batchSize)
	tsStep := uint32(int64(g.cfg.Codec.ClockRate) * int64(g.cfg.Ptime) / int64(time.Second))
	// Schedule order: by next due time. All streams share one period, so a
	// round-robin over streams sorted by their first due time stays sorted.
	slices.SortFunc(streams, func(a, b *Stream) int { return g.due(start, a).Compare(g.due(start, b)) })
	var first, last time.Time
	remaining := len(streams)
	pos := 0
	for remaining > 0 {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		// Sleep until the stream at pos is due.
		s := streams[pos]
		if wait := time.Until(g.due(start, s)); wait > 0 {
			time.Sleep(max(wait, minSleep))
		}
		now := time.Now()
		nowNs := now.UnixNano()
		n := 0
		// Collect every due stream (at most one lap, at most one batch).
		for lap := 0; n < batchSize && lap < len(streams); lap++ {
			s := streams[pos]
			if s.next >= g.cfg.Packets {
				pos = (pos + 1) % len(streams)
				continue
			}
			d := g.due(start, s)
			if d.After(now) {
				break
			}
			res.Lateness.Add(int64(now.Sub(d)))
			stamp(s.pkt, s.next, tsStep, nowNs)
			if s.enc != nil {
				// The media server's cost of SRTP, paid by the generator as
				// it would be by a sender on another machine.
				s.wire, _ = s.enc.EncryptRTP(s.wire[:0], s.pkt, nil)
			}
			batch[n] = s
			n++
			s.next++
			if s.next == g.cfg.Packets {
				remaining--
			}
			pos = (pos + 1) % len(streams)
		}
		if n == 0 {
			continue
		}
		sent, failed := snd.send(batch[:n])
		res.Sent += int64(sent)
		res.SendErrs += int64(failed)
		progress.Add(int64(sent))
		if first.IsZero() {
			first = now
		}
		last = time.Now()
	}
	res.Elapsed = last.Sub(first)
	return res, nil
}

// out is the datagram to send: the SRTP form when the stream encrypts.
func (s *Stream) out() []byte {
	if s.enc != nil {
		return s.wire
	}
	return s.pkt
}
