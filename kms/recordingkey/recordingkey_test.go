package recordingkey_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/storage/seal"
)

func keyring(t *testing.T) (kms.Provider, kms.KeyRef) {
	t.Helper()
	k, err := local.Open(t.TempDir(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	return k, kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}
}

// sealed writes an empty recording under dk and returns the object.
func sealed(t *testing.T, dk *kms.DataKey, env seal.Envelope, ec kms.EncryptionContext, org, policy string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := seal.NewWriter(&buf, dk.Plaintext, seal.Header{
		Context:    seal.Context{OrgID: org, PolicyID: policy},
		KMSContext: ec, Envelope: env,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPooledDEKRoundTrip: a DEK generated ahead of its recording (pool
// context, no recording id) is recorded in a version 2 header and unwraps
// for the recording the index names, through the recorded context alone.
func TestPooledDEKRoundTrip(t *testing.T) {
	ctx := context.Background()
	ps, key := keyring(t)
	id, err := recordingkey.NewDEKID()
	if err != nil {
		t.Fatal(err)
	}
	ec := recordingkey.Pooled("org-1", key, id)
	dk, env, err := recordingkey.Generate(ctx, ps, key, ec, false)
	if err != nil {
		t.Fatal(err)
	}
	obj := sealed(t, dk, env, ec, "org-1", "pci")
	h, err := seal.ParseHeader(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != seal.Version2 || recordingkey.KeyRef(h.Envelope) != key {
		t.Fatalf("version %d, key %v", h.Version, recordingkey.KeyRef(h.Envelope))
	}
	uc, err := recordingkey.UnwrapContext(h, recordingkey.Recording{ID: "rec-1", OrgID: "org-1", PolicyID: "pci"})
	if err != nil {
		t.Fatal(err)
	}
	dek, err := recordingkey.Unwrap(ctx, ps, h.Envelope, uc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.NewReader(bytes.NewReader(obj), int64(len(obj)), dek); err != nil {
		t.Fatal(err)
	}
	// A rewrap keeps the recorded context: the new envelope still unwraps under it.
	env2, err := recordingkey.Rewrap(ctx, ps, h.Envelope, uc)
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := recordingkey.Unwrap(ctx, ps, env2, uc); err != nil || !bytes.Equal(d2, dek) {
		t.Fatalf("rewrapped envelope: %v", err)
	}
}

// TestRecordedContextOfAnotherOrg: a header whose recorded context claims
// another org than the index says is refused before the KMS is asked, even
// though the KMS would unwrap it (the attack: a header and envelope copied
// from another tenant's recording).
func TestRecordedContextOfAnotherOrg(t *testing.T) {
	ctx := context.Background()
	ps, key := keyring(t)
	ec := recordingkey.Pooled("org-2", key, "d1")
	dk, env, err := recordingkey.Generate(ctx, ps, key, ec, false)
	if err != nil {
		t.Fatal(err)
	}
	h, err := seal.ParseHeader(bytes.NewReader(sealed(t, dk, env, ec, "org-1", "pci")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recordingkey.Unwrap(ctx, ps, h.Envelope, h.KMSContext); err != nil {
		t.Fatalf("the KMS itself would unwrap: %v", err) // the check below is what stops it
	}
	_, err = recordingkey.UnwrapContext(h, recordingkey.Recording{ID: "rec-1", OrgID: "org-1", PolicyID: "pci"})
	if !errors.Is(err, recordingkey.ErrContextMismatch) {
		t.Fatalf("another org's context: %v", err)
	}
}

func TestCheck(t *testing.T) {
	rec := recordingkey.Recording{ID: "rec-1", OrgID: "org-1", PolicyID: "pci"}
	for name, tc := range map[string]struct {
		ec kms.EncryptionContext
		ok bool
	}{
		"pooled":            {kms.EncryptionContext{"org": "org-1", "key": "local:k", "dek": "x"}, true},
		"for the recording": {recordingkey.ForRecording("org-1", "rec-1", "pci"), true},
		"no org":            {kms.EncryptionContext{"key": "local:k", "dek": "x"}, false},
		"other org":         {kms.EncryptionContext{"org": "org-2", "key": "local:k", "dek": "x"}, false},
		"other policy":      {recordingkey.ForRecording("org-1", "rec-1", "other"), false},
		"other recording":   {recordingkey.ForRecording("org-1", "rec-2", "pci"), false},
	} {
		t.Run(name, func(t *testing.T) {
			err := recordingkey.Check(tc.ec, rec)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, recordingkey.ErrContextMismatch)) {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if err := recordingkey.Check(kms.EncryptionContext{"org": ""}, recordingkey.Recording{ID: "r"}); err == nil {
		t.Fatal("an index row without an org accepted a context")
	}
}

// TestLegacyContext: a version 1 header's DEK unwraps under the context the
// index implies, and the index encoding round-trips.
func TestLegacyContext(t *testing.T) {
	rec := recordingkey.Recording{ID: "rec-1", OrgID: "org-1", PolicyID: "pci"}
	ec, err := recordingkey.UnwrapContext(&seal.Header{Version: seal.Version1}, rec)
	if err != nil || !maps.Equal(ec, recordingkey.ForRecording("org-1", "rec-1", "pci")) {
		t.Fatalf("%v %v", ec, err)
	}
	b, err := recordingkey.Marshal(recordingkey.Pooled("org-1", kms.KeyRef{Provider: "local", KeyID: "k"}, "d"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := recordingkey.Unmarshal(b)
	if err != nil || back["key"] != "local:k" || back["dek"] != "d" || back["org"] != "org-1" {
		t.Fatalf("%v %v", back, err)
	}
	if c, err := recordingkey.Unmarshal(nil); c != nil || err != nil {
		t.Fatalf("nil: %v %v", c, err)
	}
}

// TestIndexContextBindsObject: a pooled context names no recording, so the
// context the index recorded with the envelope ties the object to its row:
// another recording's object (same org, its own pooled DEK) or a version 1
// object in place of a version 2 one is refused.
func TestIndexContextBindsObject(t *testing.T) {
	key := kms.KeyRef{Provider: "local", KeyID: "k"}
	mine, other := recordingkey.Pooled("org-1", key, "d1"), recordingkey.Pooled("org-1", key, "d2")
	rec := recordingkey.Recording{ID: "rec-1", OrgID: "org-1", PolicyID: "pci", KMSContext: mine}
	if ec, err := recordingkey.UnwrapContext(&seal.Header{Version: seal.Version2, KMSContext: mine}, rec); err != nil || !maps.Equal(ec, mine) {
		t.Fatalf("own object: %v %v", ec, err)
	}
	for name, h := range map[string]*seal.Header{
		"another recording's object": {Version: seal.Version2, KMSContext: other},
		"a version 1 object":         {Version: seal.Version1},
	} {
		if _, err := recordingkey.UnwrapContext(h, rec); !errors.Is(err, recordingkey.ErrContextMismatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
