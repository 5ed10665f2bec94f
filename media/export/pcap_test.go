package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type capturedPacket struct {
	ts               time.Time
	src, dst         netip.Addr
	srcPort, dstPort uint16
	payload          []byte
}

// parsePCAP reads a classic pcap back, checking every length field and the
// IPv4 and UDP checksums.
func parsePCAP(t *testing.T, b []byte) (LinkType, []capturedPacket) {
	t.Helper()
	le, be := binary.LittleEndian, binary.BigEndian
	if len(b) < 24 || le.Uint32(b) != 0xa1b2c3d4 || le.Uint16(b[4:]) != 2 || le.Uint16(b[6:]) != 4 ||
		le.Uint32(b[16:]) != 65535 {
		t.Fatalf("bad global header % x", b[:min(len(b), 24)])
	}
	lt := LinkType(le.Uint32(b[20:]))
	var out []capturedPacket
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			t.Fatalf("truncated record header")
		}
		sec, usec, incl, orig := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:])
		if incl != orig || int(incl) > len(b)-16 || usec >= 1e6 {
			t.Fatalf("record header: incl %d orig %d usec %d", incl, orig, usec)
		}
		f := b[16 : 16+incl]
		b = b[16+incl:]
		if lt == LinkEthernet {
			if be.Uint16(f[12:]) != 0x0800 {
				t.Fatalf("ethertype %#x", be.Uint16(f[12:]))
			}
			f = f[14:]
		}
		if f[0] != 0x45 || f[9] != 17 || int(be.Uint16(f[2:])) != len(f) {
			t.Fatalf("IPv4 header % x (frame %d bytes)", f[:20], len(f))
		}
		if onesSum(0, f[:20]) != 0xFFFF {
			t.Fatalf("IPv4 checksum wrong")
		}
		src, dst := netip.AddrFrom4([4]byte(f[12:16])), netip.AddrFrom4([4]byte(f[16:20]))
		u := f[20:]
		if int(be.Uint16(u[4:])) != len(u) {
			t.Fatalf("UDP length %d, have %d", be.Uint16(u[4:]), len(u))
		}
		s4, d4 := src.As4(), dst.As4()
		sum := onesSum(onesSum(onesSum(0, s4[:]), d4[:]), []byte{0, 17, u[4], u[5]})
		if onesSum(sum, u) != 0xFFFF {
			t.Fatalf("UDP checksum wrong")
		}
		out = append(out, capturedPacket{
			ts: time.Unix(int64(sec), int64(usec)*1000), src: src, dst: dst,
			srcPort: be.Uint16(u), dstPort: be.Uint16(u[2:]), payload: slices.Clone(u[8:]),
		})
	}
	return lt, out
}

func TestWritePCAP(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := Header{Start: start, Tracks: []Track{pcmuTrack, {Label: "agent", Kind: "audio", Codec: "PCMA", ClockRate: 8000, PayloadType: 8}}}
	caller := stream{ssrc: 1, seq: 1, ts: 1, start: 1500}
	agent := stream{ssrc: 2, seq: 1, ts: 1, start: int64(7 * time.Millisecond), track: 1}
	recs := slices.Concat(caller.packets(t, 0, 10), agent.packets(t, 0, 10))
	slices.SortStableFunc(recs, func(a, b Record) int { return int(a.Arrival - b.Arrival) })
	odd := []byte{0x80, 0, 0} // malformed RTP is still what was received
	recs = append(recs,
		Record{Type: RecordPacket, Track: 0, Arrival: int64(time.Second), Data: odd},
		Record{Type: RecordPause, Track: 1, Arrival: int64(time.Second)},
		Record{Type: RecordPacket, Track: 1, Arrival: int64(time.Second) + 1, Data: agent.packet(t, 11).Data}, // paused: left out
		Record{Type: RecordPacket, Track: 4, Arrival: int64(time.Second) + 1, Data: odd},                      // no such track
		Record{Type: RecordEvent, Track: AllTracks, Arrival: int64(time.Second) + 2, Data: []byte("note")},
		Record{Type: RecordResume, Track: 1, Arrival: int64(2 * time.Second)},
		Record{Type: RecordPacket, Track: 1, Arrival: int64(2 * time.Second), Data: agent.packet(t, 12).Data},
		Record{Type: RecordPacket, Track: 0, Arrival: int64(2 * time.Second), Data: make([]byte, 70000)}, // too big for UDP
	)
	var kept []Record
	for _, r := range recs {
		if r.Type == RecordPacket && r.Track <= 1 && len(r.Data) < 70000 && !(r.Track == 1 && r.Arrival == int64(time.Second)+1) {
			kept = append(kept, r)
		}
	}

	tests := []struct {
		name string
		o    PCAPOptions
		lt   LinkType
		src  netip.Addr
		port uint16
	}{
		{"defaults: ethernet", PCAPOptions{}, LinkEthernet, DefaultPCAPSrc, DefaultPCAPBasePort},
		{"raw IPv4, own addresses and port", PCAPOptions{LinkType: LinkRaw, Src: netip.MustParseAddr("198.51.100.7"),
			Dst: netip.MustParseAddr("198.51.100.8"), BasePort: 5004}, LinkRaw, netip.MustParseAddr("198.51.100.7"), 5004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			st, err := WritePCAP(&buf, h, &SliceSource{Records: recs}, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if st != (PCAPStats{Packets: len(kept), Skipped: 3}) {
				t.Fatalf("stats %+v, want %d packets 3 skipped", st, len(kept))
			}
			lt, pkts := parsePCAP(t, buf.Bytes())
			if lt != tt.lt || len(pkts) != len(kept) {
				t.Fatalf("link type %d, %d packets; want %d, %d", lt, len(pkts), tt.lt, len(kept))
			}
			for i, p := range pkts {
				r := kept[i]
				wantTS := start.Add(time.Duration(r.Arrival)).Truncate(time.Microsecond)
				port := tt.port + 2*uint16(r.Track)
				if !p.ts.Equal(wantTS) || p.src != tt.src || p.dstPort != port || p.srcPort != port || !bytes.Equal(p.payload, r.Data) {
					t.Fatalf("packet %d: ts %v src %v ports %d→%d (%d bytes); want ts %v src %v port %d (%d bytes)",
						i, p.ts, p.src, p.srcPort, p.dstPort, len(p.payload), wantTS, tt.src, port, len(r.Data))
				}
			}
		})
	}
}

func TestWritePCAPErrors(t *testing.T) {
	h := Header{Tracks: []Track{pcmuTrack}}
	tests := []struct {
		name string
		w    *bytes.Buffer
		o    PCAPOptions
		src  Source
		want error
	}{
		{"bad link type", &bytes.Buffer{}, PCAPOptions{LinkType: 113}, &SliceSource{}, ErrBadHeader},
		{"IPv6 address", &bytes.Buffer{}, PCAPOptions{Src: netip.MustParseAddr("2001:db8::1")}, &SliceSource{}, ErrBadHeader},
		{"port too high", &bytes.Buffer{}, PCAPOptions{BasePort: 65535}, &SliceSource{}, ErrBadHeader},
		{"source fails", &bytes.Buffer{}, PCAPOptions{}, errSource{errDiskFull}, errDiskFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := WritePCAP(tt.w, h, tt.src, tt.o); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := WritePCAP(failWriter{}, h, &SliceSource{}, PCAPOptions{}); !errors.Is(err, errDiskFull) {
		t.Fatalf("failing writer: err = %v", err)
	}
}

// TestPCAPReadableByTcpdump decodes the capture with tcpdump's RTP printer,
// a reader independent of ours (tshark would do too but is far heavier to
// install).
func TestPCAPReadableByTcpdump(t *testing.T) {
	tcpdump := tool(t, "tcpdump", "tcpdump")
	s := stream{ssrc: 0xCAFE, seq: 65534, ts: 1}
	var buf bytes.Buffer
	if _, err := WritePCAP(&buf, Header{Start: time.Unix(1e9, 0), Tracks: []Track{pcmuTrack}},
		&SliceSource{Records: s.packets(t, 0, 4)}, PCAPOptions{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "synthetic.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tcpdump, "-nn", "-tt", "-r", path, "-T", "rtp").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var got []string
	for _, l := range lines {
		if strings.Contains(l, "udp/rtp") {
			got = append(got, l)
		}
	}
	if len(got) != 4 {
		t.Fatalf("tcpdump saw %d RTP packets:\n%s", len(got), out)
	}
	for i, l := range got {
		// "<ts> IP <src> > <dst>: udp/rtp <len> c<pt> <seq> <timestamp>"
		wantTS := strconv.FormatFloat(1e9+float64(i)*0.02, 'f', 6, 64)
		rtpFields := strings.Fields(l[strings.Index(l, "udp/rtp")+len("udp/rtp"):])
		want := []string{"160", "c0", strconv.Itoa(int(uint16(65534 + i))), strconv.Itoa(1 + i*samples)}
		if !strings.HasPrefix(l, wantTS+" IP 192.0.2.1.40000 > 192.0.2.2.40000:") || !slices.Equal(rtpFields, want) {
			t.Errorf("line %d: %q, want ts %s and RTP %v", i, l, wantTS, want)
		}
	}
}
