package sealpeer

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"filippo.io/age"
	"github.com/mediaseal/mediaseal/storage/seal"
	tink "github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

const objectSize = 8 << 20

var (
	dek   = bytes.Repeat([]byte{0x42}, 32)
	sizes = []int{16 << 10, 64 << 10}
)

// payload returns one write's worth of mildly structured bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func sealHeader() seal.Header {
	return seal.Header{Context: seal.Context{
		OrgID: "org", CallID: "call",
		Tracks: []seal.Track{{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000}},
	}}
}

// sealWrite writes objectSize payload bytes as records of recLen data bytes
// into chunks of chunk bytes.
func sealWrite(w io.Writer, chunk, recLen int) error {
	sw, err := seal.NewWriter(w, dek, sealHeader(), seal.WithMaxChunkSize(chunk))
	if err != nil {
		return err
	}
	rec := seal.Record{Type: seal.RecordPacket, Data: payload(recLen)}
	for n := 0; n < objectSize; n += recLen {
		rec.Arrival += 20_000_000
		if err := sw.WriteRecord(rec); err != nil {
			return err
		}
	}
	return sw.Close()
}

func tinkCipher(b *testing.B, segment int) *tink.AESGCMHKDF {
	c, err := tink.NewAESGCMHKDF(dek, "SHA256", 32, segment, 0)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func writeAll(w io.WriteCloser, writeLen int) error {
	p := payload(writeLen)
	for n := 0; n < objectSize; n += writeLen {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Close()
}

// writeLens: one chunk's worth of payload per write, and one 172-byte RTP
// packet (G.711, 20 ms) per write.
func writeLens(chunk int) []int { return []int{chunk - 12, 172} }

func BenchmarkEncrypt(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	for _, chunk := range sizes {
		for _, wl := range writeLens(chunk) {
			name := fmt.Sprintf("chunk=%dK/write=%d", chunk>>10, wl)
			b.Run("seal/"+name, func(b *testing.B) {
				b.SetBytes(objectSize)
				b.ReportAllocs()
				for b.Loop() {
					if err := sealWrite(io.Discard, chunk, wl); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("tink/"+name, func(b *testing.B) {
				c := tinkCipher(b, chunk)
				b.SetBytes(objectSize)
				b.ReportAllocs()
				for b.Loop() {
					w, err := c.NewEncryptingWriter(io.Discard, nil)
					if err != nil {
						b.Fatal(err)
					}
					if err := writeAll(w, wl); err != nil {
						b.Fatal(err)
					}
				}
			})
			if chunk != 64<<10 {
				continue // age's chunk size is fixed at 64 KiB
			}
			b.Run("age/"+name, func(b *testing.B) {
				b.SetBytes(objectSize)
				b.ReportAllocs()
				for b.Loop() {
					w, err := age.Encrypt(io.Discard, id.Recipient())
					if err != nil {
						b.Fatal(err)
					}
					if err := writeAll(w, wl); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	for _, chunk := range sizes {
		name := fmt.Sprintf("chunk=%dK", chunk>>10)
		b.Run("seal/"+name, func(b *testing.B) {
			var obj bytes.Buffer
			if err := sealWrite(&obj, chunk, chunk-12); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(objectSize)
			b.ReportAllocs()
			for b.Loop() {
				r, err := seal.NewReader(bytes.NewReader(obj.Bytes()), int64(obj.Len()), dek)
				if err != nil {
					b.Fatal(err)
				}
				if st, err := r.Records(func(seal.Record) error { return nil }); err != nil || st != seal.StatusComplete {
					b.Fatal(st, err)
				}
			}
		})
		b.Run("tink/"+name, func(b *testing.B) {
			c := tinkCipher(b, chunk)
			var obj bytes.Buffer
			w, _ := c.NewEncryptingWriter(&obj, nil)
			if err := writeAll(w, chunk-12); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(objectSize)
			b.ReportAllocs()
			for b.Loop() {
				r, err := c.NewDecryptingReader(bytes.NewReader(obj.Bytes()), nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		if chunk != 64<<10 {
			continue
		}
		b.Run("age/"+name, func(b *testing.B) {
			var obj bytes.Buffer
			w, _ := age.Encrypt(&obj, id.Recipient())
			if err := writeAll(w, chunk-12); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(objectSize)
			b.ReportAllocs()
			for b.Loop() {
				r, err := age.Decrypt(bytes.NewReader(obj.Bytes()), id)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
