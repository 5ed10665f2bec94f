package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// staticKeys hands out one DEK under the platform key; the test keeps it
// to decrypt what the manager wrote. It answers from a goroutine of its
// own, as the broker does, so Create does not wait for the spool file.
type staticKeys struct{ dek []byte }

func (k staticKeys) Acquire(_ context.Context, _ KeyRequest, deliver func(KeyGrant, error)) {
	go deliver(KeyGrant{DEK: bytes.Clone(k.dek), Envelope: seal.Envelope{
		Key: seal.KeyRef{Provider: "local", KeyID: "platform", KeyVersion: "1"}, WrappedDEK: []byte("test")}}, nil)
}

var _ KeySource = staticKeys{}

// testManager is a manager on a real spool whose recordings the test can
// decrypt with dek. Options adjust its config and collaborators.
type testManager struct {
	*Manager
	sp  *spool.Spool
	dek []byte
}

func newTestManager(t testing.TB, p policy.Policy, opts ...func(*Config, *Deps)) *testManager {
	t.Helper()
	p.Normalize()
	set, err := policy.NewSet([]policy.Policy{p})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	dek := make([]byte, 32)
	rand.Read(dek)
	cfg := Config{OrgID: "org", BindAddr: netip.MustParseAddr("127.0.0.1"), AdvertiseAddr: netip.MustParseAddr("127.0.0.1"),
		PortMin: 42000, PortMax: 42099, InactivityTimeout: time.Minute, MaxPendingBytes: 1 << 20, MaxSessions: 10,
		FlushInterval: time.Second, GroupCommit: sp.GroupCommit()}
	deps := Deps{Policies: func() *policy.Set { return set }, Keys: staticKeys{dek}, Recordings: lifecycle(t, sp)}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	m := NewManager(cfg, deps)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager run: %v", err)
		}
	})
	return &testManager{m, sp, dek}
}

// records decrypts the spooled recording of an ended session.
func (tm *testManager) records(t testing.TB, s *Session) []seal.Record {
	t.Helper()
	e, ok := tm.sp.Find(s.RecordingID)
	if !ok {
		t.Fatalf("recording %s not in the spool", s.RecordingID)
	}
	b, err := os.ReadFile(e.Path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := seal.NewReader(bytes.NewReader(b), int64(len(b)), tm.dek)
	if err != nil {
		t.Fatal(err)
	}
	var out []seal.Record
	st, err := r.Records(func(rec seal.Record) error {
		rec.Data = bytes.Clone(rec.Data)
		out = append(out, rec)
		return nil
	})
	if err != nil || st != seal.StatusComplete {
		t.Fatalf("read recording: %v %v", st, err)
	}
	return out
}

func recordPolicy(redact bool) policy.Policy {
	return policy.Policy{ID: "p", Name: "all", RecordingType: policy.RecordingAudio, TargetIDs: []string{"*"}, RedactDTMF: redact}
}

func pkt(t testing.TB, pt uint8, seq uint16, ts uint32, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 0x1234}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dtmfEvent returns the packets of one RFC 4733 event: three updates and
// the end packet sent three times, all with the event's timestamp.
func dtmfEvent(t testing.TB, pt uint8, seq uint16, ts uint32, digit byte) [][]byte {
	var out [][]byte
	for i, dur := range []uint16{160, 320, 480, 640, 640, 640} {
		end := byte(0)
		if i >= 3 {
			end = 0x80
		}
		out = append(out, pkt(t, pt, seq+uint16(i), ts, []byte{digit, end | 10, byte(dur >> 8), byte(dur)}))
	}
	return out
}

func TestDTMFRedaction(t *testing.T) {
	pt96 := uint8(96)
	cases := []struct {
		name      string
		redact    bool
		dtmfPT    *uint8 // negotiated; nil = default 101
		sendPT    uint8  // payload type the events are sent with
		wantKept  int    // telephone-event packets in the recording
		wantMarks int    // redaction markers
	}{
		{"kept by default", false, nil, 101, 12, 0},
		{"redacted default PT", true, nil, 101, 0, 2},
		{"redacted negotiated PT", true, &pt96, 96, 0, 2},
		{"other PT is not DTMF", true, &pt96, 101, 12, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestManager(t, recordPolicy(tc.redact))
			s, err := tm.Create(context.Background(), Request{CallID: "c1", Direction: policy.DirectionInbound, External: true,
				Tracks: []TrackSpec{{Label: "caller", Kind: "audio", DTMFPayloadType: tc.dtmfPT}}})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now()
			var sent [][]byte
			seq := uint16(1)
			audio := func(n int) {
				for range n {
					sent = append(sent, pkt(t, 0, seq, uint32(seq)*160, bytes.Repeat([]byte{0xff}, 160)))
					seq++
				}
			}
			audio(5)
			sent = append(sent, dtmfEvent(t, tc.sendPT, seq, 800, 5)...) // digit 5
			seq += 6
			audio(5)
			sent = append(sent, dtmfEvent(t, tc.sendPT, seq, 2400, 9)...) // digit 9
			seq += 6
			audio(5)
			for i, p := range sent {
				s.Push(0, at.Add(time.Duration(i)*20*time.Millisecond), p)
			}
			sum, err := tm.End(context.Background(), s.ID, "test")
			if err != nil || sum.Status != "COMPLETE" {
				t.Fatalf("end: %v %+v", err, sum)
			}
			var kept, marks, audioPkts int
			for _, r := range tm.records(t, s) {
				switch r.Type {
				case seal.RecordPacket:
					if r.Data[1]&0x7f == tc.sendPT {
						kept++
						if tc.redact && tc.dtmfPT != nil && tc.sendPT == *tc.dtmfPT {
							t.Fatalf("a redacted telephone-event reached the recording: % x", r.Data)
						}
					} else {
						audioPkts++
					}
				case seal.RecordEvent:
					if !bytes.Equal(r.Data, DTMFMarker) {
						t.Fatalf("unexpected event %q", r.Data)
					}
					marks++
				}
			}
			if kept != tc.wantKept || marks != tc.wantMarks || audioPkts != 15 {
				t.Fatalf("kept %d markers %d audio %d, want %d %d 15", kept, marks, audioPkts, tc.wantKept, tc.wantMarks)
			}
			if got := sum.Counters.DTMFRedacted; got != int64(12-tc.wantKept) {
				t.Fatalf("DTMFRedacted = %d, want %d", got, 12-tc.wantKept)
			}
		})
	}
}

func TestDTMFPayloadTypeValidation(t *testing.T) {
	tm := newTestManager(t, recordPolicy(true))
	for _, pt := range []uint8{0, 128} {
		_, err := tm.Create(context.Background(), Request{CallID: "c", Direction: policy.DirectionInbound, External: true,
			Tracks: []TrackSpec{{Label: "caller", Kind: "audio", DTMFPayloadType: &pt}}})
		if err == nil {
			t.Fatalf("dtmfPayloadType %d accepted", pt)
		}
	}
}

// BenchmarkPush measures the per-packet path with and without a
// redactDtmf policy, for media and for telephone-event packets.
func BenchmarkPush(b *testing.B) {
	for _, bc := range []struct {
		name   string
		redact bool
		pt     uint8
	}{{"media", false, 0}, {"media-redact-policy", true, 0}, {"dtmf-redacted", true, 101}} {
		b.Run(bc.name, func(b *testing.B) {
			tm := newTestManager(b, recordPolicy(bc.redact))
			s, err := tm.Create(context.Background(), Request{CallID: "c", Direction: policy.DirectionInbound, External: true,
				Tracks: []TrackSpec{{Label: "caller", Kind: "audio"}}})
			if err != nil {
				b.Fatal(err)
			}
			for st, _ := s.KeyState(); st == KeyPending; st, _ = s.KeyState() {
				time.Sleep(time.Millisecond)
			}
			p := pkt(b, bc.pt, 1, 160, make([]byte, 160)) // 172 bytes
			now := time.Now()
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				p[3] = byte(i) // sequence number
				s.Push(0, now, p)
			}
			b.StopTimer()
			tm.End(context.Background(), s.ID, "bench")
		})
	}
}
