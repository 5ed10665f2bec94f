package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type inner struct {
	Region string `json:"region"`
	KeyArn string `json:"keyArn"`
}

type dest struct {
	Name        string            `json:"name"`
	KeyProvider *inner            `json:"keyProvider"`
	Tags        map[string]string `json:"tags"`
	List        []inner           `json:"list"`
	Raw         json.RawMessage   `json:"raw"`
	Auto        *bool             `json:"autoRotate"`
}

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		path       string // "" with ok
		ok         bool
		unknown    bool
		msg        string
	}{
		{name: "plain", body: `{"name":"k","keyProvider":{"region":"eu"},"tags":{"A":"1","b":"2"},"list":[{"region":"x"}],"raw":{"z":1}}`, ok: true},
		{name: "whitespace around", body: " \n{\"name\":\"k\"}\r\n\t", ok: true},
		{name: "escaped value", body: `{"name":"\u006b\n"}`, ok: true},
		{name: "duplicate top", body: `{"name":"k","name":"k"}`, path: "name", msg: "duplicate key"},
		{name: "duplicate nested", body: `{"keyProvider":{"region":"a","region":"b"}}`, path: "keyProvider.region", msg: "duplicate key"},
		{name: "duplicate in array", body: `{"list":[{},{"keyArn":"a","keyArn":"b"}]}`, path: "list[1].keyArn", msg: "duplicate key"},
		{name: "duplicate in raw", body: `{"raw":{"a":1,"a":2}}`, path: "raw.a", msg: "duplicate key"},
		{name: "duplicate in map", body: `{"tags":{"a":"1","a":"2"}}`, path: "tags.a", msg: "duplicate key"},
		{name: "case variant", body: `{"Name":"k"}`, path: "Name", msg: "case-sensitive"},
		{name: "upper variant", body: `{"NAME":"k"}`, path: "NAME", msg: "case-sensitive"},
		{name: "case variant nested", body: `{"keyProvider":{"KEYARN":"x"}}`, path: "keyProvider.KEYARN", msg: "case-sensitive"},
		{name: "case pair", body: `{"name":"a","Name":"b"}`, path: "Name", msg: "differ only in case"},
		{name: "kelvin fold", body: "{\"\u212aeyProvider\":{}}", path: "\u212aeyProvider", msg: "case-sensitive"},
		{name: "case pair in map", body: `{"tags":{"a":"1","A":"2"}}`, path: "tags.A", msg: "differ only in case"},
		{name: "escaped key", body: `{"\u006eame":"k"}`, path: "name", msg: "escapes"},
		{name: "escaped key nested", body: `{"keyProvider":{"regio\u006e":"x"}}`, path: "keyProvider.region", msg: "escapes"},
		{name: "escaped slash key", body: `{"na\/me":"k"}`, path: "na/me", msg: "escapes"},
		{name: "invalid utf8 value", body: "{\"name\":\"k\xff\"}", msg: "invalid UTF-8 at byte 10"},
		{name: "invalid utf8 key", body: "{\"na\xc3me\":\"k\"}", msg: "invalid UTF-8 at byte 4"},
		{name: "bom", body: "\xef\xbb\xbf{\"name\":\"k\"}", msg: "byte order mark"},
		{name: "trailing object", body: `{"name":"k"}{"name":"x"}`, msg: "data after"},
		{name: "trailing garbage", body: `{"name":"k"} x`, msg: "data after"},
		{name: "unknown", body: `{"name":"k","extra":1}`, path: "extra", unknown: true, msg: "unknown field"},
		{name: "unknown nested", body: `{"keyProvider":{"extra":1}}`, path: "keyProvider.extra", unknown: true, msg: "unknown field"},
		{name: "deep", body: `{"raw":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, path: "raw" + strings.Repeat("[0]", 32), msg: "nested deeper"},
		{name: "huge number", body: `{"raw":1e400}`, path: "raw", msg: "out of range"},
		{name: "truncated", body: `{"name":"k"`, msg: "ends in the middle"},
		{name: "empty", body: ``, msg: "ends in the middle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d dest
			err := Unmarshal([]byte(tc.body), &d)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want *Error", err, err)
			}
			if e.Path != tc.path || e.Unknown != tc.unknown || !strings.Contains(e.Msg, tc.msg) {
				t.Fatalf("got path %q unknown %v %q, want path %q unknown %v containing %q", e.Path, e.Unknown, e.Msg, tc.path, tc.unknown, tc.msg)
			}
		})
	}
}

// TestUnmarshalTypeError: a wrong type stays encoding/json's error, so the
// API can name the field and the expected type.
func TestUnmarshalTypeError(t *testing.T) {
	var d dest
	var te *json.UnmarshalTypeError
	if err := Unmarshal([]byte(`{"autoRotate":"yes"}`), &d); !errors.As(err, &te) || te.Field != "autoRotate" {
		t.Fatalf("got %v", err)
	}
}

// TestEmbedded: promoted fields of an embedded struct are known; the
// outer field wins over a promoted one of the same name.
func TestEmbedded(t *testing.T) {
	type base struct {
		ID   string `json:"id"`
		Name int    `json:"name"`
	}
	type outer struct {
		base
		Name string `json:"name"`
	}
	var o outer
	if err := Unmarshal([]byte(`{"id":"a","name":"b"}`), &o); err != nil || o.ID != "a" || o.Name != "b" {
		t.Fatalf("%+v %v", o, err)
	}
	if err := Unmarshal([]byte(`{"ID":"a"}`), &o); err == nil {
		t.Fatal("case variant of a promoted field accepted")
	}
}
