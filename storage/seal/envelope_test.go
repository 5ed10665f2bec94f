package seal

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
)

func TestSidecarEnvelope(t *testing.T) {
	env := Envelope{Key: KeyRef{Provider: "aws-kms", KeyID: "arn:aws:kms:eu-west-1:111122223333:key/abcd", KeyVersion: "2", Fallback: true}, WrappedDEK: bytes.Repeat([]byte{7}, 184)}
	b, err := MarshalEnvelope(testRID, env)
	if err != nil {
		t.Fatal(err)
	}
	rid, got, err := ParseEnvelope(b)
	if err != nil || rid != testRID || !reflect.DeepEqual(got, env) {
		t.Fatalf("ParseEnvelope = %x, %+v, %v", rid, got, err)
	}
	for i := range b {
		bad := bytes.Clone(b)
		bad[i] ^= 0x80
		if _, _, err := ParseEnvelope(bad); err == nil && i < len(sidecarMagic)+1 {
			t.Fatalf("flip in sidecar magic/version byte %d accepted", i)
		}
	}
	if _, _, err := ParseEnvelope(b[:len(b)-1]); !errors.Is(err, ErrHeaderMalformed) {
		t.Fatalf("short sidecar: %v", err)
	}
}

// TestReplaceEnvelope: a rewrap in place changes what ParseHeader reports and
// leaves the media verifiable, byte for byte unchanged.
func TestReplaceEnvelope(t *testing.T) {
	obj := writeObject(t, testHeader(), testRecords(20, 100), writeOpts{maxChunk: 512})
	f := writeTemp(t, obj)
	env := Envelope{Key: KeyRef{Provider: "aws-kms", KeyID: "arn:aws:kms:eu-west-1:111122223333:key/" + string(bytes.Repeat([]byte("k"), 300)), KeyVersion: "7"}, WrappedDEK: bytes.Repeat([]byte{9}, 184)}
	if err := ReplaceEnvelope(f, env); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(bytes.NewReader(after))
	if err != nil || !reflect.DeepEqual(h.Envelope, env) {
		t.Fatalf("ParseHeader after rewrap: %+v, %v", h, err)
	}
	if len(after) != len(obj) {
		t.Fatal("rewrap changed the object's length")
	}
	r, err := NewReader(bytes.NewReader(after), int64(len(after)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after[r.HeaderLen():], obj[r.HeaderLen():]) {
		t.Fatal("rewrap touched the chunks")
	}
	if s, err := r.Verify(); err != nil || s.Status != StatusComplete {
		t.Fatalf("Verify after rewrap: %+v, %v", s, err)
	}

	huge := env
	huge.WrappedDEK = make([]byte, 4096)
	if err := ReplaceEnvelope(f, huge); !errors.Is(err, ErrHeaderInvalid) {
		t.Fatalf("oversized envelope: %v", err)
	}
}
