package media

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// heldKeys hands out a DEK only when the test releases it, from a
// goroutine of its own as the broker does.
type heldKeys struct {
	dek     []byte
	release chan struct{}
}

func (k *heldKeys) Acquire(_ context.Context, _ KeyRequest, deliver func(KeyGrant, error)) {
	go func() {
		<-k.release
		deliver(KeyGrant{DEK: bytes.Clone(k.dek), Envelope: seal.Envelope{
			Key: seal.KeyRef{Provider: "local", KeyID: "platform", KeyVersion: "1"}, WrappedDEK: []byte("test")}}, nil)
	}()
}

// TestCallEndingBeforeItsKeyWaitsForIt: a call that ends while its DEK is
// still on its way waits for the key source's answer (a channel, not a
// polling loop) and records what it buffered; the manager starts no
// goroutine of its own for the key.
func TestCallEndingBeforeItsKeyWaitsForIt(t *testing.T) {
	keys := &heldKeys{release: make(chan struct{})}
	tm := newTestManager(t, recordPolicy(false), func(_ *Config, d *Deps) { d.Keys = keys })
	keys.dek = tm.dek
	s, err := tm.Create(context.Background(), Request{CallID: "c", Direction: policy.DirectionInbound, External: true,
		Tracks: []TrackSpec{{Label: "caller", Kind: "audio"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Only heldKeys' goroutine waits for the key: none of the manager's
	// sits in Create's key request.
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "media.(*Manager).Create") {
		t.Errorf("a goroutine of the manager waits for the key:\n%s", stacks)
	}
	for i := range 5 {
		s.Push(0, time.Now(), pkt(t, 0, uint16(i), uint32(160*i), make([]byte, 160)))
	}
	ended := make(chan Summary, 1)
	go func() {
		sum, _ := tm.End(context.Background(), s.ID, "test")
		ended <- sum
	}()
	select {
	case sum := <-ended:
		t.Fatalf("ended before its key arrived: %+v", sum)
	case <-time.After(200 * time.Millisecond):
	}
	close(keys.release)
	select {
	case sum := <-ended:
		if sum.Status != "COMPLETE" || sum.Records != 5 {
			t.Fatalf("summary %+v", sum)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("End did not return once the key arrived")
	}
	if got := tm.records(t, s); len(got) != 5 {
		t.Fatalf("%d records, want the 5 buffered before the key", len(got))
	}
}
