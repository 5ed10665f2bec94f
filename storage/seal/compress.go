package seal

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// One encoder and one decoder serve every Writer and Reader in the process:
// EncodeAll and DecodeAll are safe for concurrent use, and sharing them keeps
// a gateway with thousands of open recordings from holding thousands of
// compressor states. Neither allocates per call once warm.

var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		// The AEAD tag already covers the payload.
		zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(1<<20),
		zstd.WithLowerEncoderMem(true),
	)
	if err != nil {
		panic("seal: zstd encoder options: " + err.Error()) // constant options
	}
	return e
})

var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(MaxChunkSizeLimit),
		// Bound DecodeAll by the capacity of dst, which the reader sets to
		// the authenticated plain length.
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		panic("seal: zstd decoder options: " + err.Error())
	}
	return d
})
