package approvals

import (
	"testing"

	"github.com/mediaseal/mediaseal/httpx/strictjson"
)

// FuzzStrictCanonical: Canonical accepts exactly what the API's strict
// decoder accepts.
func FuzzStrictCanonical(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"name":"k","name":"k"}`, `{"a":1,"A":2}`, `{"\u0061":1}`, "\xef\xbb\xbf{}",
		"{\"a\":\"\xff\"}", `[1.5e3,-0,1e400]`, `{"a":[{"b":null}]} x`, `"\u00e9"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, cerr := Canonical(body)
		serr := strictjson.Check(body)
		if (cerr == nil) != (serr == nil) {
			t.Fatalf("%q: Canonical %v, strict %v", body, cerr, serr)
		}
		_ = c
	})
}
