package export

import "fmt"

// Writer is one container file, fed packets in the order of its feed and
// finished by Close, in the spirit of pion's pkg/media writers: it holds
// no more of the recording than the packet at hand and what its format
// must look back on. Close finishes the file (sizes, padding, the last
// buffered bytes) but never closes the io.Writer beneath; after an error
// every later call returns it.
//
// A capture writer ([PCAPWriter]) is fed packets as they were received,
// in recording order; a timeline writer ([WAVWriter]) is fed the frames of
// the rebuilt timeline ([Timeline]) in position order, across tracks.
type Writer interface {
	WritePacket(p Packet) error
	Close() error
}

// Packet is one media packet of a track.
type Packet struct {
	// Track is the index of the packet's track in Header.Tracks.
	Track uint8
	// Arrival is when it was received, in nanoseconds since Header.Start.
	Arrival int64
	// RTP is the packet as received (capture writers write it whole);
	// nil for a frame of the rebuilt timeline.
	RTP []byte
	// Frame places the packet on its track's rebuilt timeline, for the
	// timeline writers: Pos and Ticks in clock ticks, Payload the media.
	Frame Frame
}

// Compile-time checks: each container's writer is a Writer.
var (
	_ Writer = (*PCAPWriter)(nil)
	_ Writer = (*WAVWriter)(nil)
	_ Writer = (*OggOpusWriter)(nil)
	_ Writer = (*IVFWriter)(nil)
	_ Writer = (*H264Writer)(nil)
)

// header describes the tracks of tl as a writer sees them: the rebuilt
// tracks' own descriptions, whatever tl.Header holds.
func (tl *Timeline) header() Header {
	h := Header{Start: tl.Header.Start, Tracks: make([]Track, len(tl.Tracks))}
	for i := range tl.Tracks {
		h.Tracks[i] = tl.Tracks[i].Track
	}
	return h
}

// feedTrack makes the writer of the track labelled label (open) and feeds
// it the track's frames in timeline order, then closes it.
func feedTrack(tl *Timeline, label string, open func(h Header, track uint8, length int64) (Writer, error)) error {
	for i := range tl.Tracks {
		t := &tl.Tracks[i]
		if t.Track.Label != label {
			continue
		}
		w, err := open(tl.header(), uint8(i), t.Length)
		if err != nil {
			return err
		}
		for _, f := range t.Frames {
			if err := w.WritePacket(Packet{Track: uint8(i), Frame: f}); err != nil {
				return err
			}
		}
		return w.Close()
	}
	return fmt.Errorf("%w: %q", ErrNoTrack, label)
}
