package events

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com): the signed content
// is "<webhook-id>.<webhook-timestamp>.<body>", the MAC HMAC-SHA256 under
// the secret's bytes, the signature "v1,<base64>"; several signatures are
// separated by spaces, which is how a rotation keeps old and new secrets
// valid at once.

const secretPrefix = "whsec_"

// Secret lengths (bytes) accepted; the spec asks for 24 to 64.
const (
	minSecretLen = 24
	maxSecretLen = 64
	newSecretLen = 32
)

// ErrSignature is a webhook that does not verify.
var ErrSignature = errors.New("events: webhook signature does not verify")

// NewSecret returns a new random secret in the "whsec_" form.
func NewSecret() (string, error) {
	b := make([]byte, newSecretLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("events: random secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// ParseSecret decodes a "whsec_<base64>" secret to its key bytes. The
// error never quotes the secret.
func ParseSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: secret must start with %q", ErrInvalid, secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: secret is not base64", ErrInvalid)
	}
	if len(key) < minSecretLen || len(key) > maxSecretLen {
		return nil, fmt.Errorf("%w: secret has %d bytes, want %d to %d", ErrInvalid, len(key), minSecretLen, maxSecretLen)
	}
	return key, nil
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the webhook-signature header of (id, ts, body) under every
// secret, space-separated.
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("%w: no secret to sign with", ErrInvalid)
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)))
	}
	return strings.Join(sigs, " "), nil
}

// Verify checks a webhook as a receiver would: the timestamp within
// tolerance of now and one v1 signature matching under secret (compared in
// constant time). Offered for receivers written in Go.
func Verify(secret, id, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp %q is not a number", ErrSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: webhook-timestamp %d is %s from now", ErrSignature, ts, d)
	}
	want := mac(key, id, ts, body)
	for _, sig := range strings.Fields(signature) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
