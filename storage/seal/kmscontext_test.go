package seal

import (
	"bytes"
	"errors"
	"maps"
	"testing"
)

// TestKMSContextRoundTrip: a version 2 header gives back the context it
// recorded; a version 1 header records none.
func TestKMSContextRoundTrip(t *testing.T) {
	obj := writeObject(t, testHeaderV2(), testRecords(20, 100), writeOpts{})
	h, err := ParseHeader(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != Version2 || !maps.Equal(h.KMSContext, testKMSContext()) {
		t.Fatalf("version %d, kms context %v", h.Version, h.KMSContext)
	}
	if _, _, err := readAll(obj, testDEK); err != nil {
		t.Fatal(err)
	}
	h, err = ParseHeader(bytes.NewReader(writeObject(t, testHeader(), nil, writeOpts{})))
	if err != nil || h.Version != Version1 || h.KMSContext != nil {
		t.Fatalf("v1: version %d, kms context %v, %v", h.Version, h.KMSContext, err)
	}
}

// TestKMSContextCanonical: the decoder takes exactly one encoding of a
// context; unsorted, repeated, empty or oversized entries are malformed.
func TestKMSContextCanonical(t *testing.T) {
	pair := func(e *encoder, k, v string) { e.str("", k); e.str("", v) }
	cases := map[string]func(e *encoder){
		"zero pairs":   func(e *encoder) { e.u16(0) },
		"unsorted":     func(e *encoder) { e.u16(2); pair(e, "org", "a"); pair(e, "key", "b") },
		"repeated":     func(e *encoder) { e.u16(2); pair(e, "org", "a"); pair(e, "org", "b") },
		"empty name":   func(e *encoder) { e.u16(1); pair(e, "", "a") },
		"long value":   func(e *encoder) { e.u16(1); pair(e, "org", string(make([]byte, MaxKMSContextValue+1))) },
		"count > max":  func(e *encoder) { e.u16(MaxKMSContextPairs + 1) },
		"count > data": func(e *encoder) { e.u16(3); pair(e, "org", "a") },
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			var e encoder
			enc(&e)
			d := decoder{b: e.b}
			if c := d.kmsContext(); d.done() == nil {
				t.Fatalf("accepted %v", c)
			}
		})
	}
	var e encoder
	e.kmsContext(testKMSContext())
	d := decoder{b: e.b}
	if c := d.kmsContext(); d.done() != nil || !maps.Equal(c, testKMSContext()) {
		t.Fatalf("canonical encoding refused: %v", d.err)
	}
	// A version 2 header whose kms context is not canonical does not parse.
	raw, err := encodeHeader(&Header{Version: Version2, Suite: SuiteAES256GCM, MaxChunkSize: 1024, KMSContext: map[string]string{"org": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Clone(raw.bytes)
	i := bytes.Index(b, []byte("\x00\x03org"))
	b[i+1] = 0 // the name's length: 0
	if _, err := ParseHeader(bytes.NewReader(b)); !errors.Is(err, ErrHeaderMalformed) {
		t.Fatalf("empty kms context name: %v", err)
	}
}
