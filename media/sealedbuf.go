package media

import "sync"

// sealedBuf is the seal.Writer's output between two flushes. Its backing
// array comes from a pool shared by every recorder and goes back to it
// once the sink has made the bytes durable: between flushes (nearly all
// the time, as chunks are sealed at flush time) a recorder holds no output
// buffer, which matters at thousands of calls per gateway.
type sealedBuf struct{ b []byte }

// sealedBufSize fits one second of a G.711 call's sealed chunk.
const sealedBufSize = 16 << 10

var sealedPool = sync.Pool{New: func() any { b := make([]byte, 0, sealedBufSize); return &b }}

// Write implements io.Writer.
func (s *sealedBuf) Write(p []byte) (int, error) {
	if s.b == nil {
		s.b = (*sealedPool.Get().(*[]byte))[:0]
	}
	s.b = append(s.b, p...)
	return len(p), nil
}

// putSealedBuf returns a delivered buffer to the pool.
func putSealedBuf(b []byte) {
	if cap(b) == 0 || cap(b) > 1<<20 {
		return // keep the pool's buffers a sane size
	}
	b = b[:0]
	sealedPool.Put(&b)
}
