package audiohook

import (
	"errors"
	"testing"
)

func TestParseAcceptsOpen(t *testing.T) {
	m, err := Parse([]byte(`{"version":"2","id":"e160e428-53e2-487c-977d-96989bf5c99d","type":"open","seq":1,"serverseq":0,"position":"PT0S","parameters":{"conversationId":"c1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "open" || m.Seq != 1 || m.Position != "PT0S" {
		t.Fatalf("got %+v", m)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      `{`,
		"version":       `{"version":"1","id":"a","type":"ping","seq":1,"parameters":{}}`,
		"no id":         `{"version":"2","type":"ping","seq":1,"parameters":{}}`,
		"seq zero":      `{"version":"2","id":"a","type":"ping","seq":0,"parameters":{}}`,
		"unknown type":  `{"version":"2","id":"a","type":"opened","seq":1,"parameters":{}}`,
		"unknown field": `{"version":"2","id":"a","type":"ping","seq":1,"parameters":{},"x":1}`,
		"trailing":      `{"version":"2","id":"a","type":"ping","seq":1,"parameters":{}}{}`,
		"params array":  `{"version":"2","id":"a","type":"ping","seq":1,"parameters":[]}`,
		"no params":     `{"version":"2","id":"a","type":"ping","seq":1}`,
		"neg serverseq": `{"version":"2","id":"a","type":"ping","seq":1,"serverseq":-1,"parameters":{}}`,
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"version":"2","id":"a","type":"open","seq":1,"parameters":{}}`))
	f.Add([]byte(`{"version":"2","id":"a","type":"ping","seq":2,"serverseq":1,"parameters":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && (m.Version != Version || m.ID == "" || m.Seq < 1 || !clientTypes[m.Type]) {
			t.Fatalf("accepted invalid %+v", m)
		}
	})
}
