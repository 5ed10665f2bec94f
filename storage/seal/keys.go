package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// HKDF info labels. Every derived value has its own label; the chunk key and
// nonce base also bind the transcript hash of the authenticated header.
const (
	labelCommit = "mediaseal seal v1 key commitment"
	labelMAC    = "mediaseal seal v1 header mac"
	labelChunk  = "mediaseal seal v1 chunk key"
	labelNonce  = "mediaseal seal v1 nonce base"
)

// keySchedule holds what a recording's DEK expands to.
//
//	prk        = HKDF-Extract(SHA-256, salt = recording id, ikm = DEK)
//	commitment = HKDF-Expand(prk, labelCommit, 32)
//	macKey     = HKDF-Expand(prk, labelMAC, 32)
//	th         = SHA-256(header[magic .. commitment])
//	chunkKey   = HKDF-Expand(prk, labelChunk || th, 32)
//	nonceBase  = HKDF-Expand(prk, labelNonce || th, 12)
//
// The commitment and MAC key deliberately do not depend on the header bytes:
// that is what lets a reader tell a wrong key (commitment mismatch) from a
// tampered header (MAC mismatch under the right key).
type keySchedule struct {
	aead      cipher.AEAD
	nonceBase [12]byte
}

// commitAndMAC derives the commitment and the header MAC key.
func commitAndMAC(dek []byte, rid *[32]byte) (commit, macKey []byte, prk []byte, err error) {
	if len(dek) != 32 {
		return nil, nil, nil, fmt.Errorf("%w: got %d", ErrKeySize, len(dek))
	}
	prk, err = hkdf.Extract(sha256.New, dek, rid[:])
	if err != nil {
		return nil, nil, nil, err
	}
	if commit, err = hkdf.Expand(sha256.New, prk, labelCommit, 32); err != nil {
		return nil, nil, nil, err
	}
	if macKey, err = hkdf.Expand(sha256.New, prk, labelMAC, 32); err != nil {
		return nil, nil, nil, err
	}
	return commit, macKey, prk, nil
}

func headerMAC(macKey, authenticated []byte) []byte {
	m := hmac.New(sha256.New, macKey)
	m.Write(authenticated)
	return m.Sum(nil)
}

// chunkKeys derives the AEAD and nonce base bound to the header transcript.
func chunkKeys(prk, authenticated []byte) (*keySchedule, error) {
	th := sha256.Sum256(authenticated)
	key, err := hkdf.Expand(sha256.New, prk, labelChunk+string(th[:]), 32)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	nb, err := hkdf.Expand(sha256.New, prk, labelNonce+string(th[:]), 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	ks := &keySchedule{aead: aead}
	copy(ks.nonceBase[:], nb)
	return ks, nil
}

// sealHeader fills in the commitment and MAC of a freshly encoded header and
// returns the chunk keys.
func sealHeader(raw *rawHeader, dek []byte) (*keySchedule, error) {
	commit, macKey, prk, err := commitAndMAC(dek, &raw.h.RecordingID)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	defer clear(macKey)
	copy(raw.commit, commit)
	copy(raw.mac, headerMAC(macKey, raw.bytes[:raw.authLen]))
	return chunkKeys(prk, raw.bytes[:raw.authLen])
}

// openHeader checks the commitment, then the MAC, and returns the chunk keys.
// The order matters: a wrong DEK must be reported as ErrWrongKey, not as a
// tampered header.
func openHeader(raw *rawHeader, dek []byte) (*keySchedule, error) {
	commit, macKey, prk, err := commitAndMAC(dek, &raw.h.RecordingID)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	defer clear(macKey)
	if subtle.ConstantTimeCompare(commit, raw.commit) != 1 {
		return nil, ErrWrongKey
	}
	if !hmac.Equal(headerMAC(macKey, raw.bytes[:raw.authLen]), raw.mac) {
		return nil, ErrHeaderTampered
	}
	return chunkKeys(prk, raw.bytes[:raw.authLen])
}
