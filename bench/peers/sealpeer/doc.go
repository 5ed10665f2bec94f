// Package sealpeer benchmarks the seal recording format against peer
// streaming-encryption formats: Tink's AES-GCM-HKDF streaming AEAD
// (github.com/tink-crypto/tink-go/v2) and age (filippo.io/age, ChaCha20-
// Poly1305 STREAM with 64 KiB chunks).
//
// It is a separate module so that the peers stay out of the main go.mod.
// Run from this directory:
//
//	go test -run '^$' -bench . -benchmem -count 5
//
// Every benchmark encrypts or decrypts a whole 8 MiB object per op (so the
// per-object header cost is included but amortised, as for a recording of a
// few minutes) and reports MB/s of payload bytes.
package sealpeer
