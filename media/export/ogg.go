package export

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

const (
	opusRate      = 48000
	oggMaxSegs    = 255
	oggPageTarget = 8 << 10 // close a page once it holds this much
	oggSerialBase = 0x6d736c00
	// maxOggPacket keeps every packet within one page (255 lacing values).
	maxOggPacket = 255*oggMaxSegs - 1
)

// Ogg page header flags (RFC 3533).
const (
	oggContinued = 0x01
	oggBOS       = 0x02
	oggEOS       = 0x04
)

// OggStats says what [WriteOggOpus] wrote.
type OggStats struct {
	Packets int // media packets written
	// SilencePackets were inserted to cover lost packets, DTX and pauses,
	// so that every player sees the true duration.
	SilencePackets int
	Skipped        int   // packets that are not valid Opus, or overlap earlier audio
	Samples        int64 // total length at 48 kHz (the final granule position)
}

// WriteOggOpus writes an Opus track as an Ogg Opus file (RFC 7845) without
// re-encoding. The track's timeline decides where every packet goes:
// lost packets, DTX gaps and paused spans are filled with Opus silence
// packets, so granule positions follow the RTP timestamps and the file
// lasts as long as the call did in every player, not only in those that
// honour granule jumps.
func WriteOggOpus(w io.Writer, tl *Timeline, label string) (OggStats, error) {
	var st OggStats
	t, err := tl.Track(label)
	if err != nil {
		return st, err
	}
	if !strings.EqualFold(t.Track.Codec, "opus") || t.Track.ClockRate != opusRate {
		return st, fmt.Errorf("%w: %q is %q at %d Hz, Ogg Opus needs opus at 48000 Hz",
			ErrCodec, label, t.Track.Codec, t.Track.ClockRate)
	}
	idx := 0
	for i := range tl.Tracks {
		if &tl.Tracks[i] == t {
			idx = i
		}
	}
	ow := &oggWriter{bw: bufio.NewWriterSize(w, 64<<10), serial: oggSerialBase + uint32(idx)}
	channels := byte(1)
	for _, f := range t.Frames {
		if _, err := opusSamples(f.Payload); err == nil {
			if f.Payload[0]&0x04 != 0 { // TOC stereo flag of the first valid packet
				channels = 2
			}
			break
		}
	}
	// Identification header (RFC 7845 §5.1): version 1, channels, pre-skip
	// 0 (the timeline starts at the first received sample), input rate,
	// gain 0, mapping family 0.
	head := []byte("OpusHead")
	head = append(head, 1, channels, 0, 0)
	head = binary.LittleEndian.AppendUint32(head, opusRate)
	head = append(head, 0, 0, 0)
	ow.packet(head)
	ow.flush(oggBOS, 0)
	// Comment header (§5.2): vendor string, no comments.
	tags := []byte("OpusTags")
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len("mediaseal")))
	tags = append(tags, "mediaseal"...)
	tags = binary.LittleEndian.AppendUint32(tags, 0)
	ow.packet(tags)
	ow.flush(0, 0)

	var pos int64 // samples written so far = granule position
	silence := func(until int64) {
		for until-pos >= 960 {
			ow.audio(opusSilence20ms, &pos, 960)
			st.SilencePackets++
		}
		for until-pos >= 120 {
			ow.audio(opusSilence2_5ms, &pos, 120)
			st.SilencePackets++
		}
	}
	for _, f := range t.Frames {
		n, err := opusSamples(f.Payload)
		if err != nil || len(f.Payload) > maxOggPacket || f.Pos+int64(n) <= pos {
			st.Skipped++
			continue
		}
		silence(f.Pos)
		ow.audio(f.Payload, &pos, int64(n))
		st.Packets++
	}
	silence(t.Length) // a pause at the end still took time
	st.Samples = pos
	ow.flush(oggEOS, pos)
	if ow.err == nil {
		ow.err = ow.bw.Flush()
	}
	if ow.err != nil {
		return st, fmt.Errorf("export: writing Ogg: %w", ow.err)
	}
	return st, nil
}

// oggWriter packs whole packets into pages of one logical stream.
type oggWriter struct {
	bw     *bufio.Writer
	serial uint32
	seq    uint32
	lacing []byte
	body   []byte
	err    error
}

// audio adds a packet of n samples, closing the current page first when
// the packet would not fit, and the page after it once it is big enough.
func (o *oggWriter) audio(p []byte, pos *int64, n int64) {
	if len(o.lacing)+len(p)/255+1 > oggMaxSegs {
		o.flush(0, *pos)
	}
	o.packet(p)
	*pos += n
	if len(o.body) >= oggPageTarget {
		o.flush(0, *pos)
	}
}

// packet appends p's lacing values (RFC 3533: 255s then a final value
// below 255, so a multiple of 255 ends with a 0) and bytes to the page.
func (o *oggWriter) packet(p []byte) {
	for n := len(p); ; n -= 255 {
		if n < 255 {
			o.lacing = append(o.lacing, byte(n))
			break
		}
		o.lacing = append(o.lacing, 255)
	}
	o.body = append(o.body, p...)
}

// flush writes the pending page with the given flags and granule position
// (that of the last packet completed on it). An EOS page is written even
// when empty; an empty ordinary page is not.
func (o *oggWriter) flush(flags byte, granule int64) {
	if len(o.lacing) == 0 && flags&(oggEOS|oggBOS) == 0 {
		return
	}
	h := make([]byte, 27, 27+len(o.lacing)+len(o.body))
	copy(h, "OggS")
	h[4] = 0 // stream structure version
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], uint64(granule))
	binary.LittleEndian.PutUint32(h[14:], o.serial)
	binary.LittleEndian.PutUint32(h[18:], o.seq)
	h[26] = byte(len(o.lacing))
	h = append(h, o.lacing...)
	h = append(h, o.body...)
	binary.LittleEndian.PutUint32(h[22:], oggCRC(h))
	o.seq++
	o.lacing, o.body = o.lacing[:0], o.body[:0]
	if o.err == nil {
		_, o.err = o.bw.Write(h)
	}
}

// oggCRCTable is CRC-32 with polynomial 0x04C11DB7, MSB first, initial
// value 0 and no final XOR: the Ogg page checksum (not the zlib CRC).
var oggCRCTable = func() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return &t
}()

func oggCRC(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ oggCRCTable[byte(c>>24)^x]
	}
	return c
}
