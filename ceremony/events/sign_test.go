package events

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example of the Standard Webhooks reference libraries: the npm
// standardwebhooks package signs it to the same value (checked by hand
// with node), so this pins the scheme, not this package's own reading.
func TestSignKnownVector(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	got, err := Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`), secret)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestSignRotationTwoSignatures(t *testing.T) {
	a, _ := NewSecret()
	b, _ := NewSecret()
	now := time.Now()
	body := []byte(`{"x":1}`)
	sig, err := Sign("id1", now, body, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("signature header %q has %d signatures, want 2", sig, n)
	}
	for _, s := range []string{a, b} {
		if err := Verify(s, "id1", strconv.FormatInt(now.Unix(), 10), sig, body, now, time.Minute); err != nil {
			t.Errorf("Verify under one of the two secrets: %v", err)
		}
	}
	c, _ := NewSecret()
	if err := Verify(c, "id1", strconv.FormatInt(now.Unix(), 10), sig, body, now, time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify under a third secret = %v, want ErrSignature", err)
	}
}

// What an attacker on the path would try: a changed body, id or
// timestamp, a stale timestamp, a truncated or v2 signature.
func TestVerifyRefusesTampering(t *testing.T) {
	s, _ := NewSecret()
	now := time.Now()
	body := []byte(`{"type":"recording.finished"}`)
	sig, _ := Sign("evt", now, body, s)
	ts := strconv.FormatInt(now.Unix(), 10)
	cases := map[string]func() error{
		"body": func() error {
			return Verify(s, "evt", ts, sig, []byte(`{"type":"recording.started"}`), now, time.Minute)
		},
		"id": func() error { return Verify(s, "evt2", ts, sig, body, now, time.Minute) },
		"timestamp": func() error {
			return Verify(s, "evt", strconv.FormatInt(now.Unix()+1, 10), sig, body, now, time.Minute)
		},
		"stale":     func() error { return Verify(s, "evt", ts, sig, body, now.Add(10*time.Minute), time.Minute) },
		"truncated": func() error { return Verify(s, "evt", ts, sig[:len(sig)-4], body, now, time.Minute) },
		"version":   func() error { return Verify(s, "evt", ts, "v2"+sig[2:], body, now, time.Minute) },
		"empty":     func() error { return Verify(s, "evt", ts, "", body, now, time.Minute) },
	}
	for name, f := range cases {
		if err := f(); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", name, err)
		}
	}
	if err := Verify(s, "evt", ts, sig, body, now, time.Minute); err != nil {
		t.Fatalf("untampered: %v", err)
	}
}

func TestParseSecretRefusesWithoutQuoting(t *testing.T) {
	for _, s := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!!", "whsec_c2hvcnQ="} {
		_, err := ParseSecret(s)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSecret(%q) = %v, want ErrInvalid", s, err)
		}
		if s != "" && err != nil && strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) && len(s) > 8 {
			t.Errorf("error %q quotes the secret", err)
		}
	}
}

func FuzzParseSecret(f *testing.F) {
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add("whsec_")
	f.Fuzz(func(t *testing.T, s string) {
		if key, err := ParseSecret(s); err == nil && (len(key) < minSecretLen || len(key) > maxSecretLen) {
			t.Fatalf("accepted a %d-byte key", len(key))
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("evt", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("", "", "v1, v1,,", []byte{})
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		_ = Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, ts, sig, body, time.Unix(1614265330, 0), time.Minute)
	})
}
