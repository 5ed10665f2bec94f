package export

import (
	"io"
	"time"
)

// RecordType is the kind of a [Record]. The numeric values are those of the
// recording format (seal.RecordPacket ... seal.RecordEvent).
type RecordType uint8

// Record types.
const (
	RecordPacket RecordType = 1 // Data is one raw RTP packet as received
	RecordPause  RecordType = 2 // secure pause starts (no media until Resume)
	RecordResume RecordType = 3 // secure pause ends
	RecordEvent  RecordType = 4 // an annotation; ignored by export
)

// AllTracks in [Record.Track] makes a Pause or Resume apply to every track.
const AllTracks uint8 = 0xFF

// Track describes one media track of a recording. Record.Track is the
// track's index in [Header.Tracks].
type Track struct {
	Label       string // "caller", "agent", ...
	Kind        string // "audio" or "video"
	Codec       string // SDP encoding name: "PCMU", "PCMA", "opus", "VP8"
	ClockRate   uint32 // RTP clock rate, e.g. 8000
	PayloadType uint8  // RTP payload type of the media (others are not decoded)
}

// Header describes a recording.
type Header struct {
	// Start is the wall-clock time that Arrival offsets count from; used
	// for capture timestamps only.
	Start  time.Time
	Tracks []Track
}

// Record is one entry of a recording.
type Record struct {
	Type    RecordType
	Track   uint8  // index into Header.Tracks, or AllTracks for Pause/Resume
	Arrival int64  // nanoseconds since Header.Start
	Data    []byte // raw RTP packet for RecordPacket; may be reused by the Source after Next
}

// Source yields the records of a recording in the order they were written.
// Next returns io.EOF after the last record.
type Source interface {
	Next() (Record, error)
}

// SliceSource is a [Source] over records held in memory.
type SliceSource struct {
	Records []Record
	i       int
}

var _ Source = (*SliceSource)(nil)

// Next returns the next record or io.EOF.
func (s *SliceSource) Next() (Record, error) {
	if s.i >= len(s.Records) {
		return Record{}, io.EOF
	}
	s.i++
	return s.Records[s.i-1], nil
}
