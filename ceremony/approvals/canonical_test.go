package approvals_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"b":1,"a":[true,null,"x"]}`, `{"a":[true,null,"x"],"b":1}`},
		{` { "a" : 1.0 , "b": 1e2, "c": -0.5 } `, `{"a":1,"b":100,"c":-0.5}`},
		{`{"z":{"y":"<&>","x":"\u00e9"}}`, `{"z":{"x":"é","y":"<&>"}}`},
		{`"\ud83d\ude00"`, `"😀"`},
	} {
		got, err := approvals.Canonical([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"a":1,"a":2}`, `{"a":1} x`, "{\"a\":\"\xff\"}", `[1,`, `1e999`, ``} {
		if _, err := approvals.Canonical([]byte(bad)); !errors.Is(err, approvals.ErrInvalid) {
			t.Errorf("Canonical(%q) = %v; want ErrInvalid", bad, err)
		}
	}
	a, da, _ := approvals.CanonicalProposal(approvals.Proposal{Operation: "key.bind", Target: "k", Parameters: json.RawMessage(`{"b":2,"a":1}`), Reason: "r"})
	b, db, _ := approvals.CanonicalProposal(approvals.Proposal{Operation: "key.bind", Target: "k", Parameters: json.RawMessage(`{ "a":1, "b":2 }`), Reason: "r"})
	if string(a) != string(b) || da != db || string(a) != `{"operation":"key.bind","parameters":{"a":1,"b":2},"reason":"r","target":"k"}` {
		t.Fatalf("%s %s", a, b)
	}
}

// FuzzCanonical: canonicalisation never panics, is idempotent, and keeps
// the value (decoding the input and the output gives the same value).
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x"]}`, `{"a":{"b":{"c":[1.5,-2,3e3]}}}`, `"\u00e9"`, `{"a":1,"a":2}`, `[]`, `0.1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := approvals.Canonical(in)
		if err != nil {
			return
		}
		again, err := approvals.Canonical(out)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("not idempotent: %s -> %s (%v)", out, again, err)
		}
		var x, y any
		if json.Unmarshal(in, &x) != nil || json.Unmarshal(out, &y) != nil {
			t.Fatalf("canonical form of valid JSON does not decode: %s", out)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("value changed: %s -> %s", in, out)
		}
	})
}
