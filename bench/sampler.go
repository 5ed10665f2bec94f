package bench

import (
	"sync"
	"time"
)

// sampler polls the gateway's RSS and the sockets' receive queues while
// the generator runs, keeping the peaks. Reading /proc/net/udp formats
// every UDP socket of the machine (thousands during a run) and runs in the
// generator's process, so it is read every udpEvery-th tick only.
type sampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  peaks
}

// udpEvery: /proc/net/udp is read every 2 s (4 ticks of 500 ms).
const udpEvery = 4

type peaks struct {
	rss, anon int64
	rxQueue   int64
	threads   int
}

func startSampler(pid int, ports map[uint16]bool) *sampler {
	s := &sampler{stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for tick := 0; ; tick++ {
			if pid != 0 {
				if m, err := readMem(pid); err == nil {
					s.peak.rss, s.peak.anon = max(s.peak.rss, m.rss), max(s.peak.anon, m.anon)
					s.peak.threads = max(s.peak.threads, m.threads)
				}
			}
			if tick%udpEvery == 0 {
				if u, err := ReadUDPStats(ports); err == nil {
					s.peak.rxQueue = max(s.peak.rxQueue, u.RxQueue)
				}
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() peaks {
	close(s.stopc)
	s.wg.Wait()
	return s.peak
}
