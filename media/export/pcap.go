package export

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// LinkType is the link-layer header type of a pcap file.
type LinkType uint32

// Link types (tcpdump.org linktypes).
const (
	LinkEthernet LinkType = 1   // Ethernet II frame around the IPv4 packet
	LinkRaw      LinkType = 101 // bare IPv4 packet
)

// PCAP defaults: documentation addresses (RFC 5737 TEST-NET-1) so the
// synthetic headers can never be mistaken for a real network.
var (
	DefaultPCAPSrc = netip.AddrFrom4([4]byte{192, 0, 2, 1})
	DefaultPCAPDst = netip.AddrFrom4([4]byte{192, 0, 2, 2})
)

// DefaultPCAPBasePort is the UDP port of track 0; track i uses base+2i.
const DefaultPCAPBasePort = 40000

const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapSnapLen    = 65535
	ipv4HeaderLen  = 20
	udpHeaderLen   = 8
	ethHeaderLen   = 14
	maxUDPPayload  = 65535 - ipv4HeaderLen - udpHeaderLen
)

// PCAPOptions shapes the synthetic headers. The zero value is usable.
type PCAPOptions struct {
	LinkType LinkType   // LinkEthernet (default) or LinkRaw
	Src, Dst netip.Addr // IPv4 source and destination; defaults above
	BasePort uint16     // UDP port of track 0 (both ends); default 40000
}

// PCAPStats says what [WritePCAP] wrote.
type PCAPStats struct {
	Packets int // packet records written
	// Skipped counts packet records left out: inside a paused span, naming
	// an unknown track, with an impossible arrival or too big for UDP.
	Skipped int
}

// PCAPWriter writes packet records, as they come, as a classic libpcap
// capture (microsecond timestamps = Header.Start + Arrival): the original
// RTP bytes inside synthetic IPv4/UDP headers, one UDP port per track.
// Packets recorded inside a paused span are left out, as in every other
// export. Malformed RTP is written as received. Not safe for concurrent use.
type PCAPWriter struct {
	bw     *bufio.Writer
	o      PCAPOptions
	ntrack int
	start  time.Time
	paused []bool
	frame  []byte
	rh     [16]byte // record header; a field, so that writing it allocates nothing
	ipID   uint16
	stats  PCAPStats
	err    error // sticky write error
}

// NewPCAPWriter checks the options and writes the pcap global header.
func NewPCAPWriter(w io.Writer, h Header, o PCAPOptions) (*PCAPWriter, error) {
	if err := o.defaults(len(h.Tracks)); err != nil {
		return nil, err
	}
	pw := &PCAPWriter{
		bw: bufio.NewWriterSize(w, 64<<10), o: o, ntrack: len(h.Tracks), start: h.Start,
		paused: make([]bool, len(h.Tracks)),
		frame:  make([]byte, 0, ethHeaderLen+ipv4HeaderLen+udpHeaderLen+1500),
	}
	if pw.start.IsZero() {
		pw.start = time.Unix(0, 0)
	}
	var gh [24]byte
	le := binary.LittleEndian
	le.PutUint32(gh[0:], pcapMagicMicro)
	le.PutUint16(gh[4:], 2) // version 2.4
	le.PutUint16(gh[6:], 4)
	le.PutUint32(gh[16:], pcapSnapLen)
	le.PutUint32(gh[20:], uint32(o.LinkType))
	if _, err := pw.bw.Write(gh[:]); err != nil {
		return nil, fmt.Errorf("export: writing pcap header: %w", err)
	}
	return pw, nil
}

// Add writes r if it is a packet record to be exported; pause and resume
// records switch their tracks' paused state, and a packet recorded inside
// a paused span is left out. Only a write error fails, and it is returned
// by every later call.
func (pw *PCAPWriter) Add(r Record) error {
	if pw.err != nil {
		return pw.err
	}
	switch r.Type {
	case RecordPause, RecordResume:
		for i := range pw.paused {
			if r.Track == AllTracks || int(r.Track) == i {
				pw.paused[i] = r.Type == RecordPause
			}
		}
		return nil
	case RecordPacket:
	default:
		return nil
	}
	if int(r.Track) < pw.ntrack && pw.paused[r.Track] {
		pw.stats.Skipped++
		return nil
	}
	return pw.WritePacket(Packet{Track: r.Track, Arrival: r.Arrival, RTP: r.Data})
}

// WritePacket writes p's RTP bytes as one captured packet. A packet naming
// an unknown track, with an impossible arrival or too big for UDP is
// counted as skipped. It keeps nothing of p.
func (pw *PCAPWriter) WritePacket(p Packet) error {
	if pw.err != nil {
		return pw.err
	}
	if int(p.Track) >= pw.ntrack || p.Arrival < 0 || p.Arrival > maxArrival || len(p.RTP) > maxUDPPayload {
		pw.stats.Skipped++
		return nil
	}
	port := pw.o.BasePort + 2*uint16(p.Track)
	pw.frame = pw.o.frame(pw.frame[:0], pw.ipID, port, p.RTP)
	pw.ipID++
	ts := pw.start.Add(time.Duration(p.Arrival))
	rh := pw.rh[:]
	le := binary.LittleEndian
	le.PutUint32(rh[0:], uint32(ts.Unix()))
	le.PutUint32(rh[4:], uint32(ts.Nanosecond()/1000))
	le.PutUint32(rh[8:], uint32(len(pw.frame)))
	le.PutUint32(rh[12:], uint32(len(pw.frame)))
	if _, err := pw.bw.Write(rh); err != nil {
		pw.err = fmt.Errorf("export: writing pcap: %w", err)
		return pw.err
	}
	if _, err := pw.bw.Write(pw.frame); err != nil {
		pw.err = fmt.Errorf("export: writing pcap: %w", err)
		return pw.err
	}
	pw.stats.Packets++
	return nil
}

// Close flushes what is buffered; it does not close the underlying
// writer.
func (pw *PCAPWriter) Close() error {
	_, err := pw.Flush()
	return err
}

// Stats says what has been written so far.
func (pw *PCAPWriter) Stats() PCAPStats { return pw.stats }

// Flush writes out buffered packets and returns what was written so far.
// It does not close the underlying writer.
func (pw *PCAPWriter) Flush() (PCAPStats, error) {
	if pw.err != nil {
		return pw.stats, pw.err
	}
	if err := pw.bw.Flush(); err != nil {
		pw.err = fmt.Errorf("export: writing pcap: %w", err)
	}
	return pw.stats, pw.err
}

// WritePCAP writes every record of src through a [PCAPWriter].
func WritePCAP(w io.Writer, h Header, src Source, o PCAPOptions) (PCAPStats, error) {
	pw, err := NewPCAPWriter(w, h, o)
	if err != nil {
		return PCAPStats{}, err
	}
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return pw.stats, fmt.Errorf("export: reading records: %w", err)
		}
		if err := pw.Add(r); err != nil {
			return pw.stats, err
		}
	}
	return pw.Flush()
}

func (o *PCAPOptions) defaults(tracks int) error {
	if o.LinkType == 0 {
		o.LinkType = LinkEthernet
	}
	if o.LinkType != LinkEthernet && o.LinkType != LinkRaw {
		return fmt.Errorf("%w: pcap link type %d", ErrBadHeader, o.LinkType)
	}
	if !o.Src.IsValid() {
		o.Src = DefaultPCAPSrc
	}
	if !o.Dst.IsValid() {
		o.Dst = DefaultPCAPDst
	}
	if !o.Src.Is4() || !o.Dst.Is4() {
		return fmt.Errorf("%w: pcap addresses %v, %v are not IPv4", ErrBadHeader, o.Src, o.Dst)
	}
	if o.BasePort == 0 {
		o.BasePort = DefaultPCAPBasePort
	}
	if int(o.BasePort)+2*tracks > 65535 {
		return fmt.Errorf("%w: pcap base port %d too high for %d tracks", ErrBadHeader, o.BasePort, tracks)
	}
	return nil
}

// frame appends [Ethernet] + IPv4 + UDP + payload to b.
func (o *PCAPOptions) frame(b []byte, id, port uint16, payload []byte) []byte {
	be := binary.BigEndian
	if o.LinkType == LinkEthernet {
		b = append(b,
			0x02, 0, 0, 0, 0, 0x02, // destination MAC (locally administered)
			0x02, 0, 0, 0, 0, 0x01, // source MAC
			0x08, 0x00) // EtherType IPv4
	}
	ip := len(b)
	src, dst := o.Src.As4(), o.Dst.As4()
	b = append(b, 0x45, 0) // version 4, IHL 5; DSCP 0
	b = be.AppendUint16(b, uint16(ipv4HeaderLen+udpHeaderLen+len(payload)))
	b = be.AppendUint16(b, id)
	b = be.AppendUint16(b, 0x4000) // don't fragment
	b = append(b, 64, 17, 0, 0)    // TTL, protocol UDP, checksum (below)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	be.PutUint16(b[ip+10:], ^onesSum(0, b[ip:ip+ipv4HeaderLen]))

	udp := len(b)
	ulen := uint16(udpHeaderLen + len(payload))
	b = be.AppendUint16(b, port)
	b = be.AppendUint16(b, port)
	b = be.AppendUint16(b, ulen)
	b = append(b, 0, 0)
	b = append(b, payload...)
	// UDP checksum over the pseudo-header, header and payload (RFC 768).
	sum := onesSum(0, src[:])
	sum = onesSum(sum, dst[:])
	sum = onesSum(sum, []byte{0, 17, byte(ulen >> 8), byte(ulen)})
	c := ^onesSum(sum, b[udp:])
	if c == 0 {
		c = 0xFFFF // 0 means "no checksum" in UDP over IPv4
	}
	be.PutUint16(b[udp+6:], c)
	return b
}

// onesSum adds b as big-endian 16-bit words to the one's-complement sum s
// (RFC 1071), padding an odd final byte with zero.
func onesSum(s uint16, b []byte) uint16 {
	acc := uint32(s)
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	for acc > 0xFFFF {
		acc = acc&0xFFFF + acc>>16
	}
	return uint16(acc)
}
