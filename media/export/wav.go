package export

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// wavHeaderSize is the canonical 44-byte RIFF/WAVE header: RIFF chunk,
// 16-byte PCM "fmt " chunk, "data" chunk header.
const wavHeaderSize = 44

// WriteWAV writes the track labelled label as a mono 16-bit PCM WAV file at
// the track's clock rate, starting at its first sample.
func WriteWAV(w io.Writer, tl *Timeline, label string) error {
	t, err := pcmTrack(tl, label)
	if err != nil {
		return err
	}
	return writeWAV(w, t.Track.ClockRate, [][]int16{t.PCM}, []int64{0})
}

// WriteWAVStereo writes two tracks as one stereo 16-bit PCM WAV file: left
// on the left channel (the caller, by convention), right on the right (the
// agent). Each track starts at its Offset from the recording start, so the
// two stay aligned as they were heard; the file starts at the earlier of
// the two and both channels are padded with silence to the same length.
func WriteWAVStereo(w io.Writer, tl *Timeline, left, right string) error {
	l, err := pcmTrack(tl, left)
	if err != nil {
		return err
	}
	r, err := pcmTrack(tl, right)
	if err != nil {
		return err
	}
	rate := l.Track.ClockRate
	if r.Track.ClockRate != rate {
		return fmt.Errorf("%w: %q at %d Hz, %q at %d Hz", ErrRateMismatch, left, rate, right, r.Track.ClockRate)
	}
	lo, ro := int64(0), int64(0)
	if len(l.PCM) > 0 {
		lo = nsToTicks(int64(l.Offset), rate)
	}
	if len(r.PCM) > 0 {
		ro = nsToTicks(int64(r.Offset), rate)
	}
	// An empty track has no offset of its own; don't let it push the other.
	switch {
	case len(l.PCM) == 0:
		lo = ro
	case len(r.PCM) == 0:
		ro = lo
	}
	first := min(lo, ro)
	return writeWAV(w, rate, [][]int16{l.PCM, r.PCM}, []int64{lo - first, ro - first})
}

func pcmTrack(tl *Timeline, label string) (*TrackTimeline, error) {
	t, err := tl.Track(label)
	if err != nil {
		return nil, err
	}
	if t.PCM == nil {
		return nil, fmt.Errorf("%w: %q is %s %q", ErrNotDecodable, label, t.Track.Kind, t.Track.Codec)
	}
	return t, nil
}

// writeWAV interleaves channels, channel c delayed by offsets[c] samples,
// padding every channel with silence to the longest.
func writeWAV(w io.Writer, rate uint32, chans [][]int16, offsets []int64) error {
	var frames int64
	for c, pcm := range chans {
		frames = max(frames, offsets[c]+int64(len(pcm)))
	}
	nch := int64(len(chans))
	dataLen := frames * nch * 2
	if dataLen > math.MaxUint32-wavHeaderSize+8 {
		return fmt.Errorf("%w: %d bytes of PCM in a WAV file", ErrTooLarge, dataLen)
	}
	bw := bufio.NewWriterSize(w, 64<<10) // header + first block in one write
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(wavHeaderSize-8+dataLen))
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	le.PutUint32(h[16:], 16)                 // fmt chunk size
	le.PutUint16(h[20:], 1)                  // WAVE_FORMAT_PCM
	le.PutUint16(h[22:], uint16(nch))        // channels
	le.PutUint32(h[24:], rate)               // sample rate
	le.PutUint32(h[28:], rate*uint32(nch)*2) // byte rate
	le.PutUint16(h[32:], uint16(nch*2))      // block align
	le.PutUint16(h[34:], 16)                 // bits per sample
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(dataLen))
	if _, err := bw.Write(h[:]); err != nil {
		return fmt.Errorf("export: writing WAV header: %w", err)
	}
	// Interleave a block of frames at a time.
	const block = 4096
	buf := make([]byte, 0, block*nch*2)
	for i := int64(0); i < frames; i += block {
		buf = buf[:0]
		for f := i; f < min(i+block, frames); f++ {
			for c, pcm := range chans {
				var v int16
				if j := f - offsets[c]; j >= 0 && j < int64(len(pcm)) {
					v = pcm[j]
				}
				buf = le.AppendUint16(buf, uint16(v))
			}
		}
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("export: writing WAV data: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: writing WAV data: %w", err)
	}
	return nil
}
