package export

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// Matroska layout choices.
const (
	mkvTimecodeScale = uint64(time.Millisecond) // block times in ms, as WebM expects
	mkvMaxCluster    = 5000                     // ms; a new cluster at least this often
	opusSeekPreRoll  = uint64(80 * time.Millisecond)
)

// MatroskaStats says what [WriteWebM] or [WriteMKV] wrote.
type MatroskaStats struct {
	// Duration is the file's duration: from its first block to the end of
	// the longest track, pauses and losses included.
	Duration time.Duration
	Tracks   []MatroskaTrack
}

// MatroskaTrack says what one track of a Matroska file holds.
type MatroskaTrack struct {
	Label, Codec  string
	Number        uint64 // Matroska track number
	Frames        int    // blocks written (silence included)
	Keyframes     int
	Dropped       int // video frames left out (see [IVFStats], [H264Stats])
	Silence       int // Opus silence packets covering loss, DTX and pauses
	Skipped       int // Opus packets that are not valid or overlap earlier audio
	Width, Height int
	// Start is the time of the track's first block in the file.
	Start time.Duration
}

// mkvBlock is one block of a track; exactly one of data, nalus and pcm is
// set.
type mkvBlock struct {
	at    int64 // ns since Header.Start
	key   bool
	data  []byte
	nalus [][]byte // H.264: written as 4-byte length-prefixed NAL units
	pcm   []int16  // decoded G.711: written as 16-bit little-endian PCM
}

// mkvTrackEntry is a Matroska TrackEntry with the elements used here
// (ebml-go's webm.TrackEntry lacks Audio.BitDepth, which PCM needs).
type mkvTrackEntry struct {
	Name         string    `ebml:"Name,omitempty"`
	TrackNumber  uint64    `ebml:"TrackNumber"`
	TrackUID     uint64    `ebml:"TrackUID"`
	CodecID      string    `ebml:"CodecID"`
	CodecPrivate []byte    `ebml:"CodecPrivate,omitempty"`
	TrackType    uint64    `ebml:"TrackType"`
	SeekPreRoll  uint64    `ebml:"SeekPreRoll,omitempty"`
	Audio        *mkvAudio `ebml:"Audio"`
	Video        *mkvVideo `ebml:"Video"`
}

type mkvAudio struct {
	SamplingFrequency float64 `ebml:"SamplingFrequency"`
	Channels          uint64  `ebml:"Channels"`
	BitDepth          uint64  `ebml:"BitDepth,omitempty"`
}

type mkvVideo struct {
	PixelWidth  uint64 `ebml:"PixelWidth"`
	PixelHeight uint64 `ebml:"PixelHeight"`
}

// Matroska track types.
const (
	mkvVideoTrack = 1
	mkvAudioTrack = 2
)

type mkvTrack struct {
	entry  mkvTrackEntry
	blocks []mkvBlock
	stats  MatroskaTrack
	end    int64 // ns since Header.Start where the track's timeline ends
}

// WriteWebM writes the given tracks (VP8 video, Opus audio) into one WebM
// file. Every block's time comes from its track's timeline (RTP
// timestamps) plus the track's offset, so the tracks stay aligned and
// losses, DTX and pauses keep their true length: gaps in the audio are
// filled with Opus silence, as in [WriteOggOpus]. Video frames are
// reassembled and dropped until the next keyframe after a loss, as in
// [WriteIVF].
func WriteWebM(w io.Writer, tl *Timeline, labels ...string) (MatroskaStats, error) {
	return writeMatroska(w, tl, "webm", labels)
}

// WriteMKV is [WriteWebM] for a Matroska file, which may also carry H.264
// video (reassembled as in [WriteH264]) and audio the timeline decodes to
// PCM (G.711, as 16-bit PCM with its silence in place); WebM allows
// neither.
func WriteMKV(w io.Writer, tl *Timeline, labels ...string) (MatroskaStats, error) {
	return writeMatroska(w, tl, "matroska", labels)
}

// MatroskaTracks picks the tracks of a call for [WriteWebM] (webm) or
// [WriteMKV]: the video track named video (or, when video is "", the
// first video track the container can carry), then every audio track it
// can carry.
func MatroskaTracks(tl *Timeline, webm bool, video string) ([]string, error) {
	var labels []string
	var other *TrackTimeline // a video track the container does not carry
	for i, t := range tl.Tracks {
		switch {
		case t.Track.Kind != "video" || len(labels) > 0:
		case t.Track.Label == video || video == "" && mkvCarries(&t, webm):
			labels = append(labels, t.Track.Label)
		case video == "" && other == nil:
			other = &tl.Tracks[i]
		}
	}
	if video != "" && len(labels) == 0 {
		return nil, fmt.Errorf("%w: no video track %q", ErrNoTrack, video)
	}
	if len(labels) == 0 && other != nil {
		// Never a silent audio-only file for a call with video.
		return nil, fmt.Errorf("%w: video track %q is %q, which %s does not allow",
			ErrCodec, other.Track.Label, other.Track.Codec, map[bool]string{true: "WebM (use Matroska)", false: "Matroska"}[webm])
	}
	for _, t := range tl.Tracks {
		if t.Track.Kind != "video" && mkvCarries(&t, webm) {
			labels = append(labels, t.Track.Label)
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("%w: no track %s can carry", ErrNoTrack, map[bool]string{true: "WebM", false: "Matroska"}[webm])
	}
	return labels, nil
}

// mkvCarries says whether the container takes the track's codec.
func mkvCarries(t *TrackTimeline, webm bool) bool {
	switch c := t.Track.Codec; {
	case strings.EqualFold(c, "VP8"):
		return true
	case strings.EqualFold(c, "opus"):
		return t.Track.ClockRate == opusRate
	default:
		return !webm && (isH264(t.Track) || t.PCM != nil)
	}
}

func writeMatroska(w io.Writer, tl *Timeline, docType string, labels []string) (MatroskaStats, error) {
	var st MatroskaStats
	if len(labels) == 0 {
		return st, fmt.Errorf("%w: no track to write", ErrNoTrack)
	}
	tracks := make([]*mkvTrack, 0, len(labels))
	for i, label := range labels {
		t, err := tl.Track(label)
		if err != nil {
			return st, err
		}
		mt, err := mkvTrackFor(t, uint64(i+1), docType)
		if err != nil {
			return st, err
		}
		tracks = append(tracks, mt)
	}

	// The file starts with the earliest block; its duration runs to the
	// end of the longest timeline.
	t0, end := int64(-1), int64(0)
	for _, mt := range tracks {
		if len(mt.blocks) > 0 && (t0 < 0 || mt.blocks[0].at < t0) {
			t0 = mt.blocks[0].at
		}
		end = max(end, mt.end)
	}
	if t0 < 0 {
		t0 = end
		for _, t := range tracks {
			t0 = min(t0, t.end)
		}
	}
	ms := func(at int64) int64 { return scale(at-t0, 1, uint64(time.Millisecond)) }
	st.Duration = time.Duration(end - t0)

	entries := make([]mkvcore.TrackDescription, len(tracks))
	main := tracks[0].entry.TrackNumber
	for i, mt := range tracks {
		entries[i] = mkvcore.TrackDescription{TrackNumber: mt.entry.TrackNumber, TrackEntry: mt.entry}
		if mt.entry.TrackType == mkvVideoTrack && tracks[0].entry.TrackType != mkvVideoTrack {
			main = mt.entry.TrackNumber // clusters start at video keyframes
		}
	}
	minCluster := int64(mkvMaxCluster)
	if tracks[main-1].entry.TrackType == mkvVideoTrack {
		minCluster = 0
	}
	info := &webm.Info{
		TimecodeScale: mkvTimecodeScale,
		MuxingApp:     "mediaseal", WritingApp: "mediaseal",
		Duration: float64(end-t0) / float64(mkvTimecodeScale),
	}
	if !tl.Header.Start.IsZero() {
		info.DateUTC = tl.Header.Start.Add(time.Duration(t0)).UTC()
	}
	sw := &stickyWriter{bw: bufio.NewWriterSize(w, 64<<10)}
	var fatalMu sync.Mutex
	var fatal error
	onFatal := func(err error) {
		fatalMu.Lock()
		defer fatalMu.Unlock()
		if fatal == nil {
			fatal = err
		}
	}
	ws, err := mkvcore.NewSimpleBlockWriter(sw, entries,
		mkvcore.WithEBMLHeader(&webm.EBMLHeader{
			EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8,
			DocType: docType, DocTypeVersion: 4, DocTypeReadVersion: 2,
		}),
		mkvcore.WithSegmentInfo(info),
		// No block interceptor: blocks are merged in time order here.
		mkvcore.WithMinMaxClusterDuration(main, minCluster, mkvMaxCluster),
		mkvcore.WithOnFatalHandler(onFatal),
		mkvcore.WithOnErrorHandler(onFatal),
	)
	if err != nil {
		return st, fmt.Errorf("export: writing Matroska: %w", err)
	}

	// Merge the tracks' blocks by time; each track's times strictly
	// increase (two frames never share a millisecond).
	next := make([]int, len(tracks))
	last := make([]int64, len(tracks))
	for i := range last {
		last[i] = -1
	}
	for {
		pick, pickMS := -1, int64(0)
		for i, mt := range tracks {
			if next[i] < len(mt.blocks) {
				m := max(ms(mt.blocks[next[i]].at), last[i]+1)
				if pick < 0 || m < pickMS {
					pick, pickMS = i, m
				}
			}
		}
		if pick < 0 {
			break
		}
		mt, b := tracks[pick], tracks[pick].blocks[next[pick]]
		if next[pick] == 0 {
			mt.stats.Start = time.Duration(pickMS) * time.Millisecond
		}
		next[pick]++
		last[pick] = pickMS
		// The writer may still be marshalling the previous block when
		// Write returns: a fresh buffer for each converted block.
		data := b.data
		switch {
		case b.nalus != nil:
			data = make([]byte, 0, avccSize(b.nalus))
			for _, n := range b.nalus {
				data = binary.BigEndian.AppendUint32(data, uint32(len(n)))
				data = append(data, n...)
			}
		case b.pcm != nil:
			data = make([]byte, 0, 2*len(b.pcm))
			for _, v := range b.pcm {
				data = binary.LittleEndian.AppendUint16(data, uint16(v))
			}
		}
		ws[pick].Write(b.key, pickMS, data)
		mt.stats.Frames++
		if b.key {
			mt.stats.Keyframes++
		}
	}
	for _, bw := range ws {
		bw.Close() // the last Close waits for the file to be finished
	}
	for _, mt := range tracks {
		st.Tracks = append(st.Tracks, mt.stats)
	}
	if err := sw.bw.Flush(); err != nil {
		return st, fmt.Errorf("export: writing Matroska: %w", err)
	}
	fatalMu.Lock()
	defer fatalMu.Unlock()
	if fatal != nil {
		return st, fmt.Errorf("export: writing Matroska: %w", fatal)
	}
	return st, nil
}

func avccSize(nalus [][]byte) int {
	n := 0
	for _, x := range nalus {
		n += 4 + len(x)
	}
	return n
}

// mkvTrackFor turns one rebuilt track into its Matroska track entry and
// blocks.
func mkvTrackFor(t *TrackTimeline, num uint64, docType string) (*mkvTrack, error) {
	rate := t.Track.ClockRate
	at := func(pos int64) int64 { return int64(t.Offset) + ticksToNS(pos, rate) }
	mt := &mkvTrack{
		entry: mkvTrackEntry{Name: t.Track.Label, TrackNumber: num, TrackUID: num},
		stats: MatroskaTrack{Label: t.Track.Label, Codec: t.Track.Codec, Number: num},
		end:   at(t.Length),
	}
	switch {
	case strings.EqualFold(t.Track.Codec, "VP8"):
		var ist IVFStats
		frames := assembleVP8(t.Frames, &ist)
		mt.blocks = make([]mkvBlock, 0, len(frames))
		for _, f := range frames {
			mt.blocks = append(mt.blocks, mkvBlock{at: at(f.pos), key: f.data[0]&0x01 == 0, data: f.data})
		}
		mt.entry.CodecID, mt.entry.TrackType = "V_VP8", mkvVideoTrack
		mt.entry.Video = &mkvVideo{PixelWidth: uint64(ist.Width), PixelHeight: uint64(ist.Height)}
		mt.stats.Dropped, mt.stats.Width, mt.stats.Height = ist.Dropped, ist.Width, ist.Height
	case isH264(t.Track):
		if docType == "webm" {
			return nil, fmt.Errorf("%w: %q is H.264, which WebM does not allow (use Matroska)", ErrCodec, t.Track.Label)
		}
		var hst H264Stats
		aus := assembleH264(t.Frames, &hst)
		mt.blocks = make([]mkvBlock, 0, len(aus))
		for _, au := range aus {
			mt.blocks = append(mt.blocks, mkvBlock{at: at(au.pos), key: au.key, nalus: au.nalus})
		}
		mt.entry.CodecID, mt.entry.TrackType = "V_MPEG4/ISO/AVC", mkvVideoTrack
		mt.entry.Video = &mkvVideo{PixelWidth: uint64(hst.Width), PixelHeight: uint64(hst.Height)}
		if len(aus) > 0 { // the first access unit is an IDR with its parameter sets
			var sps, pps []byte
			for _, n := range aus[0].nalus {
				switch n[0] & 0x1F {
				case nalSPS:
					sps = n
				case nalPPS:
					pps = n
				}
			}
			cfg, err := avcConfig(sps, pps)
			if err != nil {
				return nil, fmt.Errorf("%w: track %q: %w", ErrCodec, t.Track.Label, err)
			}
			mt.entry.CodecPrivate = cfg
		}
		mt.stats.Dropped, mt.stats.Width, mt.stats.Height = hst.Dropped, hst.Width, hst.Height
	case strings.EqualFold(t.Track.Codec, "opus") && rate == opusRate:
		channels := opusBlocks(t, mt, at)
		mt.entry.CodecID, mt.entry.TrackType = "A_OPUS", mkvAudioTrack
		mt.entry.CodecPrivate = opusHead(channels)
		mt.entry.SeekPreRoll = opusSeekPreRoll
		mt.entry.Audio = &mkvAudio{SamplingFrequency: opusRate, Channels: uint64(channels)}
	case t.PCM != nil && docType != "webm":
		// G.711 and the like: the timeline's PCM, silence already in
		// place, in 20 ms blocks.
		step := int64(rate / 50)
		mt.blocks = make([]mkvBlock, 0, int64(len(t.PCM))/step+1)
		for i := int64(0); i < int64(len(t.PCM)); i += step {
			mt.blocks = append(mt.blocks, mkvBlock{at: at(i), key: true, pcm: t.PCM[i:min(i+step, int64(len(t.PCM)))]})
		}
		mt.entry.CodecID, mt.entry.TrackType = "A_PCM/INT/LIT", mkvAudioTrack
		mt.entry.Audio = &mkvAudio{SamplingFrequency: float64(rate), Channels: 1, BitDepth: 16}
	default:
		return nil, fmt.Errorf("%w: %q is %q at %d Hz; %s", ErrCodec, t.Track.Label, t.Track.Codec, rate,
			map[bool]string{true: "WebM takes VP8 and Opus", false: "Matroska takes VP8, H264, Opus and PCM-decodable audio"}[docType == "webm"])
	}
	return mt, nil
}

// opusBlocks places an Opus track's packets and fills every gap (loss,
// DTX, pause, a pause at the end) with silence packets, like WriteOggOpus.
func opusBlocks(t *TrackTimeline, mt *mkvTrack, at func(int64) int64) (channels int) {
	channels = 1
	for _, f := range t.Frames {
		if _, err := opusSamples(f.Payload); err == nil {
			if f.Payload[0]&0x04 != 0 { // TOC stereo flag of the first valid packet
				channels = 2
			}
			break
		}
	}
	mt.blocks = make([]mkvBlock, 0, len(t.Frames))
	var pos int64
	silence := func(until int64) {
		for _, s := range [...]struct {
			p []byte
			n int64
		}{{opusSilence20ms, 960}, {opusSilence2_5ms, 120}} {
			for until-pos >= s.n {
				mt.blocks = append(mt.blocks, mkvBlock{at: at(pos), key: true, data: s.p})
				pos += s.n
				mt.stats.Silence++
			}
		}
	}
	for _, f := range t.Frames {
		n, err := opusSamples(f.Payload)
		if err != nil || f.Pos+int64(n) <= pos {
			mt.stats.Skipped++
			continue
		}
		silence(f.Pos)
		mt.blocks = append(mt.blocks, mkvBlock{at: at(max(f.Pos, pos)), key: true, data: f.Payload})
		pos = max(f.Pos, pos) + int64(n)
	}
	silence(t.Length)
	return channels
}

// opusHead is the Opus identification header (RFC 7845 §5.1), which
// Matroska's A_OPUS carries as CodecPrivate: pre-skip 0, since the
// timeline starts at the first received sample.
func opusHead(channels int) []byte {
	head := []byte("OpusHead")
	head = append(head, 1, byte(channels), 0, 0)
	head = binary.LittleEndian.AppendUint32(head, opusRate)
	return append(head, 0, 0, 0)
}

// stickyWriter keeps the first write error and accepts everything after
// it, so that the Matroska writer's goroutine never stops half way (its
// blocked writers would wait forever); the error is reported at the end.
type stickyWriter struct {
	bw *bufio.Writer
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	s.bw.Write(p) // bufio keeps the first error; Flush returns it
	return len(p), nil
}

func (s *stickyWriter) Close() error { return nil }
