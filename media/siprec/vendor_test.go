package siprec

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/policy"
)

// TestVendorMetadataForms records calls whose metadata is written as SBC
// families send it (testdata/siprec/vendor-*.xml) and checks the call
// fields each maps to with the mapping an operator would configure.
func TestVendorMetadataForms(t *testing.T) {
	for _, tc := range []struct {
		name, file    string
		labels        [2]string
		mapping       func(*Mapping)
		queue, callID string
		caller, agent string
		dir           string
	}{
		{name: "cisco-cube", file: "vendor-cube.xml", labels: [2]string{"1", "2"},
			// No call id of the platform's own: the SIP Session-ID stands in.
			callID: "1f2c9a33b8e0586fa0ad6e1be0c4a5d1;remote=00000000000000000000000000000000",
			caller: "+14085550100", agent: "3001", dir: policy.DirectionInbound},
		{name: "oracle-acme", file: "vendor-oracle.xml", labels: [2]string{"11", "12"},
			mapping: func(m *Mapping) {
				m.CallID, m.QueueID = "session/extensiondata/ucid", "session/extensiondata/queue"
			},
			queue: "billing", callID: "00FA080018803B69810C3D;encoding=hex",
			caller: "+442079460000", agent: "agent-112", dir: policy.DirectionInbound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSRS(t, func(c *Config) {
				if tc.mapping != nil {
					tc.mapping(&c.Mapping)
				}
			})
			res := s.invite(newDialog(), mpType, rsBody(sdpOffer(audioLine(7000, tc.labels[0], "sendonly"),
				audioLine(7002, tc.labels[1], "sendonly")), sample(t, tc.file)))
			if res.StatusCode != 200 {
				t.Fatalf("INVITE: %d %v", res.StatusCode, res.GetHeader("Reason"))
			}
			r := s.onlySession().Request
			if r.QueueID != tc.queue || r.CallID != tc.callID || r.CallerID != tc.caller || r.AgentID != tc.agent || r.Direction != tc.dir {
				t.Fatalf("mapped request %+v", r)
			}
			if tr := s.onlySession().Tracks; len(tr) != 2 || tr[0].Label != "caller" || tr[1].Label != "agent" {
				t.Fatalf("tracks %+v", tr)
			}
		})
	}
}

// rtpStream sends PCMU packets of one SSRC to a track's port.
type rtpStream struct {
	conn net.Conn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func (r *rtpStream) send(t *testing.T, n int) {
	t.Helper()
	pkt := make([]byte, 12+160)
	for range n {
		pkt[0], pkt[1] = 0x80, 0
		binary.BigEndian.PutUint16(pkt[2:], r.seq)
		binary.BigEndian.PutUint32(pkt[4:], r.ts)
		binary.BigEndian.PutUint32(pkt[8:], r.ssrc)
		if _, err := r.conn.Write(pkt); err != nil {
			t.Fatal(err)
		}
		r.seq++
		r.ts += 160
		time.Sleep(time.Millisecond)
	}
}

func waitRecorded(t *testing.T, sess *media.Session, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for sess.Counters().Recorded < want {
		if time.Now().After(deadline) {
			t.Fatalf("recorded %d packets, want %d (%+v)", sess.Counters().Recorded, want, sess.Counters())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTransferAndJoinKeepRecording is a call through a CUBE-style SRC: a
// blind transfer arrives as a re-INVITE with complete metadata naming a
// new agent whose media comes with a new SSRC on the same stream, then a
// supervisor joins by UPDATE with partial metadata. The recording goes on
// across both on the same ports, the new SSRC's packets are recorded, and
// the call ends COMPLETE.
func TestTransferAndJoinKeepRecording(t *testing.T) {
	s := startSRS(t, nil)
	d := newDialog()
	offer := sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly"))
	res := s.invite(d, mpType, rsBody(offer, sample(t, "vendor-cube.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	ports, _ := answerPorts(t, res)
	sess := s.onlySession()
	addrs := sess.Addrs()
	dial := func(addr string, ssrc uint32) *rtpStream {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return &rtpStream{conn: c, ssrc: ssrc, seq: uint16(ssrc), ts: ssrc}
	}
	caller, agent := dial(addrs[0].RTP, 0x1111), dial(addrs[1].RTP, 0x2222)
	caller.send(t, 20)
	agent.send(t, 20)
	waitRecorded(t, sess, 40)

	// The transfer: complete metadata, same streams and labels.
	res = s.do(s.request(d, sip.INVITE, mpType, rsBody(offer, sample(t, "vendor-cube-transfer.xml"))))
	if res.StatusCode != 200 {
		t.Fatalf("re-INVITE (transfer): %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	if p, dirs := answerPorts(t, res); p[0] != ports[0] || p[1] != ports[1] || dirs[1] != dirRecvOnly {
		t.Fatalf("transfer answer ports %v dirs %v, want %v recvonly", p, dirs, ports)
	}
	// The new agent's leg: another SSRC, sequence and timestamp base, from
	// the same media address.
	agent2 := &rtpStream{conn: agent.conn, ssrc: 0x3333, seq: 40000, ts: 9_000_000}
	caller.send(t, 20)
	agent2.send(t, 20)
	waitRecorded(t, sess, 80)

	// A supervisor joins (listens only).
	if res := s.do(s.request(d, sip.UPDATE, typeMetadata, sample(t, "vendor-update-participant.xml"))); res.StatusCode != 200 {
		t.Fatalf("UPDATE adding a participant: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	caller.send(t, 10)
	agent2.send(t, 10)
	waitRecorded(t, sess, 100)
	if len(s.m.Sessions()) != 1 || sess.Counters().Dropped() != 0 {
		t.Fatalf("sessions %d, counters %+v", len(s.m.Sessions()), sess.Counters())
	}

	if res := s.do(s.request(d, sip.BYE, "", nil)); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	s.waitNoSessions()
	if sum := sess.Summary(); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
}
