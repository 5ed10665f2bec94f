// Package sealpeer benchmarks the seal recording format against peer
// streaming-encryption formats: Tink's AES-GCM-HKDF streaming AEAD
// (github.com/tink-crypto/tink-go/v2) and age (filippo.io/age, ChaCha20-
// Poly1305 STREAM with 64 KiB chunks).
//
// It is a separate module so that the peers stay out of the main go.mod.
// Run from this directory:
//
//	go test -run '^$' -bench Compare -benchtime 30x -count 3
//	go test -run '^$' -bench 'Encrypt|Decrypt' -benchmem -count 5
//
// Every benchmark encrypts or decrypts a whole 8 MiB object per op (so the
// per-object header cost is included but amortised, as for a recording of a
// few minutes) and reports MB/s of payload bytes. BenchmarkCompare runs the
// three interleaved and reports median speed ratios, which stay meaningful
// on a shared machine; the separate Encrypt/Decrypt benchmarks give
// absolute numbers and allocations.
//
// Payload bytes are counted the same for all three, but seal also encrypts a
// 12-byte record header per write (type, track, arrival time) that Tink and
// age do not carry: 7% more bytes for a 172-byte RTP packet.
package sealpeer
