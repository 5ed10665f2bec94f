package ng

import (
	"errors"
	"reflect"
	"testing"
)

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "spam", "4:spam"},
		{"empty string", "", "0:"},
		{"bytes", []byte{0, 'x'}, "2:\x00x"},
		{"int", 42, "i42e"},
		{"negative", int64(-3), "i-3e"},
		{"zero", 0, "i0e"},
		{"bool", true, "3:yes"},
		{"strings", []string{"a", "bc"}, "l1:a2:bce"},
		{"list", []any{"a", 1, []any{}}, "l1:ai1elee"},
		{"dict sorted", Dict{"sdp": "v=0", "command": "offer", "call-id": "c1"}, "d7:call-id2:c17:command5:offer3:sdp3:v=0e"},
		{"nested", map[string]any{"flags": []string{"asymmetric"}, "record call": "yes"}, "d5:flagsl10:asymmetrice11:record call3:yese"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("Marshal = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := Marshal(Dict{"x": 1.5}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("float: err %v, want ErrUnsupported", err)
	}
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"4:spam", "spam"},
		{"0:", ""},
		{"i0e", int64(0)},
		{"i-17e", int64(-17)},
		{"i9223372036854775807e", int64(9223372036854775807)},
		{"le", []any{}},
		{"de", Dict{}},
		{"l1:ai2ee", []any{"a", int64(2)}},
		// rtpengine does not sort its keys: any order is accepted.
		{"d6:result2:ok3:sdp3:v=02:aai1ee", Dict{"result": "ok", "sdp": "v=0", "aa": int64(1)}},
		{"d1:ad1:bl1:ceee", Dict{"a": Dict{"b": []any{"c"}}}},
	}
	for _, tc := range tests {
		got, err := Unmarshal([]byte(tc.in))
		if err != nil {
			t.Errorf("Unmarshal(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Unmarshal(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestUnmarshalMalformed(t *testing.T) {
	deep := ""
	for range maxDepth + 2 {
		deep += "l"
	}
	for range maxDepth + 2 {
		deep += "e"
	}
	for _, in := range []string{
		"", "i", "ie", "i-e", "i-0e", "i01e", "i1", "i1x", "i99999999999999999999e",
		"5:spam", "01:a", ":", "-1:a", "4spam", "l", "li1e", "d", "d1:a", "di1ei2ee",
		"d1:ai1e1:ai2ee", "x", "4:spamX", "i1ei2e", deep,
	} {
		if v, err := Unmarshal([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Unmarshal(%q) = %#v, %v; want ErrMalformed", in, v, err)
		}
	}
}

func TestParseReply(t *testing.T) {
	cookie, d, err := ParseReply([]byte("abc_1 d6:result4:ponge"))
	if err != nil || cookie != "abc_1" || d.Str("result") != "pong" {
		t.Fatalf("ParseReply = %q, %v, %v", cookie, d, err)
	}
	for _, in := range []string{"", "abc", " d6:result2:oke", "abc_1 l2:oke", "abc_1 d6:result2:ok", "abc_1 d6:result2:okeX"} {
		if _, _, err := ParseReply([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseReply(%q): err %v, want ErrMalformed", in, err)
		}
	}
}

// FuzzParseReply: no input panics, and whatever parses marshals back to
// a form that parses to the same value (the canonical, sorted encoding).
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		"c1 d6:result4:ponge",
		"c2 d6:result2:ok3:sdp10:v=0\r\nm=x\r\ne",
		"c3 d6:result5:error12:error-reason14:Unknown call-ide",
		"c4 d6:resultl1:ai-1ed1:bi0eeee",
		"c5 di1e1:ae",
		"c6 d1:ai01ee",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cookie, d, err := ParseReply(b)
		if err != nil {
			return
		}
		if cookie == "" || d == nil {
			t.Fatalf("ParseReply(%q) accepted an empty cookie or dictionary", b)
		}
		enc, err := Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of a parsed reply: %v", err)
		}
		back, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", enc, err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip changed %#v into %#v", d, back)
		}
	})
}
