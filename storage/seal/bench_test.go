package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./storage/seal/
//
// BenchmarkRawGCM is the physical baseline: AES-256-GCM Seal of one chunk's
// plaintext with the same 64-byte AAD the format uses, and nothing else.
// SealWriter and SealReader report throughput in plaintext record bytes, so
// their MB/s compare directly with RawGCM at the same chunk size.

var benchChunkSizes = []int{16 << 10, 64 << 10}

func BenchmarkRawGCM(b *testing.B) {
	for _, c := range benchChunkSizes {
		b.Run(fmt.Sprintf("chunk=%dK", c>>10), func(b *testing.B) {
			block, _ := aes.NewCipher(testDEK)
			aead, _ := cipher.NewGCM(block)
			pt := make([]byte, c)
			out := make([]byte, 0, c+tagLen)
			var nc [12]byte
			var aad [aadLen]byte
			b.SetBytes(int64(c))
			b.ReportAllocs()
			for b.Loop() {
				out = aead.Seal(out[:0], nc[:], pt, aad[:])
			}
		})
	}
}

// BenchmarkSealWriter: each op writes one record. "full" records fill a
// chunk exactly, so every op seals and writes one chunk; "172B" records are
// one 20 ms G.711 RTP packet each.
func BenchmarkSealWriter(b *testing.B) {
	for _, c := range benchChunkSizes {
		for _, size := range []int{c - recordHeaderLen, 172} {
			for _, comp := range []bool{false, true} {
				name := fmt.Sprintf("chunk=%dK/record=%d", c>>10, size)
				if size == c-recordHeaderLen {
					name = fmt.Sprintf("chunk=%dK/record=full", c>>10)
				}
				if comp {
					name += "/zstd"
				}
				b.Run(name, func(b *testing.B) {
					w, err := NewWriter(io.Discard, testDEK, testHeader(), WithMaxChunkSize(c), WithCompression(comp))
					if err != nil {
						b.Fatal(err)
					}
					rec := testRecords(1, size)[0]
					b.SetBytes(int64(size + recordHeaderLen))
					b.ReportAllocs()
					for b.Loop() {
						rec.Arrival += 20_000_000
						if err := w.WriteRecord(rec); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkSealReader: each op verifies and decodes one chunk with Chunk(i)
// from an in-memory object.
func BenchmarkSealReader(b *testing.B) {
	for _, c := range benchChunkSizes {
		for _, size := range []int{c - recordHeaderLen, 172} {
			for _, comp := range []bool{false, true} {
				name := fmt.Sprintf("chunk=%dK/record=%d", c>>10, size)
				if size == c-recordHeaderLen {
					name = fmt.Sprintf("chunk=%dK/record=full", c>>10)
				}
				if comp {
					name += "/zstd"
				}
				b.Run(name, func(b *testing.B) {
					perChunk := c / (size + recordHeaderLen)
					obj := writeObject(b, testHeader(), testRecords(16*perChunk, size), writeOpts{maxChunk: c, compression: comp})
					r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
					if err != nil {
						b.Fatal(err)
					}
					n, err := r.NumChunks()
					if err != nil {
						b.Fatal(err)
					}
					n-- // skip the small final chunk
					b.SetBytes(int64(perChunk * (size + recordHeaderLen)))
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if _, err := r.Chunk(i % n); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			}
		}
	}
}

// BenchmarkRatio measures the writer and the reader against raw AES-GCM
// Seal interleaved op by op, so that all three see the same machine: on a
// shared box the separate benchmarks above drift more than the effect being
// measured. It reports the ratio of median op times, i.e. seal throughput /
// raw throughput ("writer/raw", "reader/raw"; the goal is >= 0.85), for
// full-chunk records. Medians keep a preempted op from deciding the result.
func BenchmarkRatio(b *testing.B) {
	for _, c := range benchChunkSizes {
		b.Run(fmt.Sprintf("chunk=%dK", c>>10), func(b *testing.B) {
			block, _ := aes.NewCipher(testDEK)
			aead, _ := cipher.NewGCM(block)
			pt := make([]byte, c)
			out := make([]byte, 0, c+tagLen)
			var nc [12]byte
			var aad [aadLen]byte

			w, err := NewWriter(io.Discard, testDEK, testHeader(), WithMaxChunkSize(c))
			if err != nil {
				b.Fatal(err)
			}
			rec := testRecords(1, c-recordHeaderLen)[0]
			obj := writeObject(b, testHeader(), testRecords(16, c-recordHeaderLen), writeOpts{maxChunk: c})
			r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
			if err != nil {
				b.Fatal(err)
			}
			const keep = 4096 // the last ops' times
			var raw, wr, rd [keep]time.Duration
			i := 0
			b.SetBytes(int64(c))
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				out = aead.Seal(out[:0], nc[:], pt, aad[:])
				t1 := time.Now()
				if err := w.WriteRecord(rec); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if _, err := r.Chunk(i % 16); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				raw[i%keep], wr[i%keep], rd[i%keep] = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)
				i++
			}
			n := min(i, keep)
			m := median(raw[:n])
			b.ReportMetric(float64(m)/float64(median(wr[:n])), "writer/raw")
			b.ReportMetric(float64(m)/float64(median(rd[:n])), "reader/raw")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
