package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/storage"
)

// BenchmarkPut measures Put (with SHA-256) against a local versitygw: a
// single PutObject below the part size, multipart above it.
func BenchmarkPut(b *testing.B) {
	g := testenv.StartVersityGW(b)
	s := newStoreB(b, g)
	for _, size := range []int{1 << 20, 16 << 20} {
		data := bytes.Repeat([]byte{0xa5}, size)
		sum := hexSum(data)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				if _, err := s.Put(context.Background(), fmt.Sprintf("bench/%d", i), bytes.NewReader(data), storage.PutOptions{SHA256: sum}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
