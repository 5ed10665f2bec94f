package bench

import (
	"sync"
	"time"
)

// sampler polls the gateway's RSS and the sockets' receive queues while
// the generator runs, keeping the peaks.
type sampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  peaks
}

type peaks struct {
	rss     int64
	rxQueue int64
	threads int
}

func startSampler(pid int, ports map[uint16]bool) *sampler {
	s := &sampler{stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			if pid != 0 {
				if r, th, err := memThreads(pid); err == nil {
					s.peak.rss = max(s.peak.rss, r)
					s.peak.threads = max(s.peak.threads, th)
				}
			}
			if u, err := ReadUDPStats(ports); err == nil {
				s.peak.rxQueue = max(s.peak.rxQueue, u.RxQueue)
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
