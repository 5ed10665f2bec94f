package sealpeer

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// BenchmarkCompare runs seal, Tink and age on the same 8 MiB object
// interleaved op by op, so that all see the same (shared, noisy) machine,
// and reports median-time speed ratios: "seal/tink" and "seal/age" above 1
// mean seal is faster. age only exists with 64 KiB chunks.
//
//	go test -run '^$' -bench Compare -benchtime 40x -count 3
func BenchmarkCompare(b *testing.B) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	for _, chunk := range sizes {
		for _, wl := range writeLens(chunk) {
			b.Run(fmt.Sprintf("encrypt/chunk=%dK/write=%d", chunk>>10, wl), func(b *testing.B) {
				c := tinkCipher(b, chunk)
				ops := []func() error{
					func() error { return sealWrite(io.Discard, chunk, wl) },
					func() error {
						w, err := c.NewEncryptingWriter(io.Discard, nil)
						if err != nil {
							return err
						}
						return writeAll(w, wl)
					},
				}
				if chunk == 64<<10 {
					ops = append(ops, func() error {
						w, err := age.Encrypt(io.Discard, id.Recipient())
						if err != nil {
							return err
						}
						return writeAll(w, wl)
					})
				}
				compare(b, ops)
			})
		}
		b.Run(fmt.Sprintf("decrypt/chunk=%dK", chunk>>10), func(b *testing.B) {
			c := tinkCipher(b, chunk)
			var sealObj, tinkObj, ageObj bytes.Buffer
			if err := sealWrite(&sealObj, chunk, chunk-12); err != nil {
				b.Fatal(err)
			}
			tw, _ := c.NewEncryptingWriter(&tinkObj, nil)
			if err := writeAll(tw, chunk-12); err != nil {
				b.Fatal(err)
			}
			ops := []func() error{
				func() error {
					r, err := seal.NewReader(bytes.NewReader(sealObj.Bytes()), int64(sealObj.Len()), dek)
					if err != nil {
						return err
					}
					_, err = r.Records(func(seal.Record) error { return nil })
					return err
				},
				func() error {
					r, err := c.NewDecryptingReader(bytes.NewReader(tinkObj.Bytes()), nil)
					if err != nil {
						return err
					}
					_, err = io.Copy(io.Discard, r)
					return err
				},
			}
			if chunk == 64<<10 {
				aw, _ := age.Encrypt(&ageObj, id.Recipient())
				if err := writeAll(aw, chunk-12); err != nil {
					b.Fatal(err)
				}
				ops = append(ops, func() error {
					r, err := age.Decrypt(bytes.NewReader(ageObj.Bytes()), id)
					if err != nil {
						return err
					}
					_, err = io.Copy(io.Discard, r)
					return err
				})
			}
			compare(b, ops)
		})
	}
}

// compare times ops[0] (seal), ops[1] (tink) and ops[2] (age, if present)
// in turn each iteration and reports seal's speed relative to each.
func compare(b *testing.B, ops []func() error) {
	times := make([][]time.Duration, len(ops))
	b.SetBytes(objectSize)
	for b.Loop() {
		for k, op := range ops {
			t0 := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			times[k] = append(times[k], time.Since(t0))
		}
	}
	med := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2])
	}
	sealT := med(times[0])
	b.ReportMetric(objectSize/sealT*1e3, "seal-MB/s")
	b.ReportMetric(med(times[1])/sealT, "seal/tink")
	if len(ops) > 2 {
		b.ReportMetric(med(times[2])/sealT, "seal/age")
	}
}
