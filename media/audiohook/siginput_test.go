package audiohook

import (
	"errors"
	"testing"
)

func TestParseSigInput(t *testing.T) {
	s, err := ParseSigInput(`sig1=("@request-target" "@authority" "audiohook-session-id" "x-api-key");keyid="key1";nonce="n1";alg="hmac-sha256";created=1700000000;expires=1700000300`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Label != "sig1" || len(s.Components) != 4 || s.KeyID != "key1" || s.Nonce != "n1" || s.Created != 1700000000 || s.Expires != 1700000300 {
		t.Fatalf("got %+v", s)
	}
}

func TestParseSigInputRefuses(t *testing.T) {
	for _, in := range []string{``, `sig1`, `sig1=x`, `sig1=("a"`, `sig1=(a);keyid="k";created=1`,
		`sig1=("a");keyid="k"`, `sig1=("a");created=1`, `sig1=("a");keyid="k";created=-1`,
		`sig1=("a");keyid="k";created=1;bogus=2`, `sig1=("a");keyid="k;created=1`} {
		if _, err := ParseSigInput(in); !errors.Is(err, ErrSigInput) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

func FuzzParseSigInput(f *testing.F) {
	f.Add(`sig1=("@request-target" "x-api-key");keyid="k";nonce="n";alg="hmac-sha256";created=1;expires=2`)
	f.Fuzz(func(t *testing.T, h string) {
		s, err := ParseSigInput(h)
		if err == nil && (s.Created <= 0 || s.KeyID == "" || len(s.Components) == 0) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
