package strictjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzStrictUnmarshal: whatever Unmarshal accepts, encoding/json accepts
// too and reads as the same value, so the strict reader never disagrees
// with the handler's standard one.
func FuzzStrictUnmarshal(f *testing.F) {
	for _, s := range []string{`{"name":"k","keyProvider":{"region":"eu","keyArn":"a"}}`, `{"name":"k","name":"k"}`,
		`{"Name":"k"}`, `{"\u006eame":"k"}`, "{\"name\":\"\xff\"}", `{"tags":{"a":"1","A":"2"}}`, `{"list":[{"region":"x"}],"raw":[1,2.5,null,true]}`,
		`{"autoRotate":true} `, `{"raw":{"x":{"y":[1e308]}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var strict dest
		if Unmarshal(body, &strict) != nil {
			return
		}
		var std dest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("strict accepts %q, encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(strict, std) {
			t.Fatalf("%q: strict %+v, encoding/json %+v", body, strict, std)
		}
	})
}

// FuzzStrictCheck: Check accepts exactly the values encoding/json reads
// without ambiguity; every accepted body is valid JSON.
func FuzzStrictCheck(f *testing.F) {
	for _, s := range []string{`{}`, `[1,{"a":"b"}]`, `"x"`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, "\xef\xbb\xbf{}", `{"\u0061":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if Check(body) == nil && !json.Valid(body) {
			t.Fatalf("Check accepts invalid JSON %q", body)
		}
	})
}
