package seal

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseEnvelope: a sidecar envelope either fails with one of the
// parse errors or is one whose encoding is exactly the input — the
// encoding has one form, so a parse-then-marshal round trip reproduces it
// (a second form would let two byte strings stand for one envelope).
func FuzzParseEnvelope(f *testing.F) {
	var id [32]byte
	copy(id[:], "recording-0123456789abcdef012345")
	for _, env := range []Envelope{
		{Key: KeyRef{Provider: "aws-kms", KeyID: "arn:aws:kms:eu-west-2:111122223333:key/k", KeyVersion: "v2"}, WrappedDEK: bytes.Repeat([]byte{0xA5}, 184)},
		{Key: KeyRef{Provider: "local", KeyID: "platform", KeyVersion: "1", Fallback: true}, WrappedDEK: []byte("wrapped")},
		{},
	} {
		b, err := MarshalEnvelope(id, env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(sidecarMagic))
	f.Add(append([]byte(sidecarMagic), 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		rid, env, err := ParseEnvelope(b)
		if err != nil {
			if !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrUnsupportedVersion) && !errors.Is(err, ErrHeaderMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		out, err := MarshalEnvelope(rid, env)
		if err != nil {
			t.Fatalf("a parsed envelope does not marshal: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip changed the envelope:\n in  %x\n out %x", b, out)
		}
	})
}
