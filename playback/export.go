package playback

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/media/export"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Export formats.
const (
	FormatWAV       = "wav"
	FormatWAVStereo = "wav-stereo"
	FormatPCAP      = "pcap"
	FormatOgg       = "ogg"  // Ogg Opus of an opus track
	FormatIVF       = "ivf"  // IVF of a VP8 video track
	FormatH264      = "h264" // Annex B elementary stream of an H.264 video track
	FormatWebM      = "webm" // WebM: a VP8 video track and every Opus audio track
	FormatMKV       = "mkv"  // Matroska: a VP8 or H.264 video track and every Opus audio track
)

// Result says what an export read and wrote.
type Result struct {
	// Status is how the read object ends: COMPLETE or RECOVERED, or, for
	// a salvage export only, TRUNCATED.
	Status seal.Status
	Chunks int64 // chunks verified and exported
	// IndexStatus is the recording's status in the index.
	IndexStatus string
	// Salvage says the export was asked for as a salvage.
	Salvage bool
	// Verified says the export is the whole recording: the index says
	// COMPLETE or RECOVERED and the object matched it (size, SHA-256,
	// chunk count, end). Only a salvage export can be unverified.
	Verified bool
	// Problems says, for a salvage export, how the object departs from
	// the index or why the read stopped early.
	Problems []string
	Tracks   []export.Summary
	Packets  int
	// WAVFallback says why a WAV export was rebuilt in memory instead of
	// streamed (packets out of order, too wide a window); "" when it
	// streamed, and for every other format.
	WAVFallback string
}

func exportHeader(h *seal.Header) export.Header {
	eh := export.Header{Start: time.Unix(0, h.Context.StartedAt)}
	for _, t := range h.Context.Tracks {
		eh.Tracks = append(eh.Tracks, export.Track{Label: t.Label, Kind: t.Kind, Codec: t.Codec, ClockRate: t.ClockRate, PayloadType: t.PayloadType})
	}
	return eh
}

func toExport(r seal.Record) export.Record {
	return export.Record{Type: export.RecordType(r.Type), Track: r.Track, Arrival: r.Arrival, Data: r.Data}
}

// recordPass reads every record of an export, then settles the read against
// the index. Every format reads the whole recording through it before it
// writes its first byte, so a refusal releases no plaintext.
type recordPass func(fn func(seal.Record)) error

// Export decrypts and verifies recording id and writes it to w as format;
// track selects the track of a mono WAV, Ogg, IVF or H.264 export
// (default: the first of the right kind). Without opts.Salvage it exports
// only a recording the index says is COMPLETE or RECOVERED and whose
// stored object matches the index's size, SHA-256, chunk count and end;
// anything else fails with ErrNotComplete or ErrIntegrity before a byte is
// written.
func (s *Service) Export(ctx context.Context, id, format, track string, opts Options, w io.Writer) (Result, error) {
	if !validFormat(format) {
		return Result{}, fmt.Errorf("%w %q (want wav, wav-stereo, pcap, ogg, ivf, h264, webm or mkv)", ErrUnknownFormat, format)
	}
	rec, res, err := s.openForExport(ctx, id, opts.Salvage)
	if err != nil {
		return res, err
	}
	defer rec.Close()
	h := exportHeader(rec.Header())
	var first seal.Summary
	var firstErr error
	read := func(fn func(seal.Record)) error {
		sum, rerr := rec.ScanRecords(func(r seal.Record) error { fn(r); return nil })
		first, firstErr = sum, rerr
		if err := settle(rec.Index, &res, sum, rerr); err != nil {
			return err
		}
		if opts.Verified != nil {
			opts.Verified(res)
		}
		return nil
	}
	if format == FormatPCAP {
		// A capture needs no timeline: one pass verifies the whole
		// recording (keeping nothing), a second streams it to the
		// writer, so memory does not grow with the call.
		if err := read(func(seal.Record) {}); err != nil {
			return res, err
		}
		err := exportPCAP(rec, h, first, firstErr, w, &res)
		return res, err
	}
	c := containers[format]
	if format == FormatWAV || format == FormatWAVStereo {
		err := exportWAV(rec, read, &first, &firstErr, h, c, track, w, &res)
		return res, err
	}
	tl, err := buildTimeline(read, h, c.opts)
	if err != nil {
		return res, err
	}
	labels, err := c.tracks(tl, track)
	if err != nil {
		return res, err
	}
	if c.allSummaries {
		for _, t := range tl.Tracks {
			res.Tracks = append(res.Tracks, t.Summary)
		}
	} else {
		for _, l := range labels {
			if t, err := tl.Track(l); err == nil {
				res.Tracks = append(res.Tracks, t.Summary)
			}
		}
	}
	return res, c.write(w, tl, labels)
}

// container is how a format other than PCAP is written from the rebuilt
// timeline: which tracks it carries (track is the caller's choice, "" for
// the default), and the writer that streams them.
type container struct {
	opts   export.Options
	tracks func(tl *export.Timeline, track string) ([]string, error)
	write  func(w io.Writer, tl *export.Timeline, labels []string) error
	// allSummaries reports every track's summary, not only the written
	// ones' (a WAV's reader learns what the other tracks lost too).
	allSummaries bool
}

var containers = map[string]container{
	// The WAV writer decodes as it streams: no decoded copy of the tracks.
	FormatWAV: {opts: export.Options{NoPCM: true}, allSummaries: true, tracks: firstOfKind(""),
		write: func(w io.Writer, tl *export.Timeline, l []string) error { return export.WriteWAV(w, tl, l[0]) }},
	FormatWAVStereo: {opts: export.Options{NoPCM: true}, allSummaries: true, tracks: stereoLabels,
		write: func(w io.Writer, tl *export.Timeline, l []string) error {
			return export.WriteWAVStereo(w, tl, l[0], l[1])
		}},
	FormatOgg: {tracks: firstOfKind("audio"), write: func(w io.Writer, tl *export.Timeline, l []string) error {
		_, err := export.WriteOggOpus(w, tl, l[0])
		return err
	}},
	FormatIVF: {tracks: firstOfKind("video"), write: func(w io.Writer, tl *export.Timeline, l []string) error {
		_, err := export.WriteIVF(w, tl, l[0])
		return err
	}},
	FormatH264: {tracks: firstOfKind("video"), write: func(w io.Writer, tl *export.Timeline, l []string) error {
		_, err := export.WriteH264(w, tl, l[0])
		return err
	}},
	FormatWebM: {tracks: matroskaTracks(true), write: func(w io.Writer, tl *export.Timeline, l []string) error {
		_, err := export.WriteWebM(w, tl, l...)
		return err
	}},
	FormatMKV: {tracks: matroskaTracks(false), write: func(w io.Writer, tl *export.Timeline, l []string) error {
		_, err := export.WriteMKV(w, tl, l...)
		return err
	}},
}

func validFormat(f string) bool {
	_, ok := containers[f]
	return ok || f == FormatPCAP
}

// firstOfKind chooses the caller's track, by default the first of kind
// (the first track of all for kind "").
func firstOfKind(kind string) func(*export.Timeline, string) ([]string, error) {
	return func(tl *export.Timeline, track string) ([]string, error) {
		if track == "" {
			for _, t := range tl.Header.Tracks {
				if kind == "" || t.Kind == kind {
					track = t.Label
					break
				}
			}
		}
		return []string{track}, nil
	}
}

// matroskaTracks chooses a call's video track (track, or the first video
// track the container carries) and every audio track it carries.
func matroskaTracks(webm bool) func(*export.Timeline, string) ([]string, error) {
	return func(tl *export.Timeline, track string) ([]string, error) {
		return export.MatroskaTracks(tl, webm, track)
	}
}

// buildTimeline rebuilds every track of a recording.
func buildTimeline(read recordPass, h export.Header, o export.Options) (*export.Timeline, error) {
	b, err := export.NewBuilder(h, o)
	if err != nil {
		return nil, err
	}
	if err := read(func(r seal.Record) { b.Add(toExport(r)) }); err != nil {
		return nil, err
	}
	return b.Finish()
}

// stereoLabels puts the caller left and the agent right; without those
// labels, the first two audio tracks.
func stereoLabels(tl *export.Timeline, _ string) ([]string, error) {
	has := map[string]bool{}
	var audio []string
	for _, t := range tl.Header.Tracks {
		has[t.Label] = true
		if t.Kind == "audio" {
			audio = append(audio, t.Label)
		}
	}
	if has["caller"] && has["agent"] {
		return []string{"caller", "agent"}, nil
	}
	if len(audio) < 2 {
		return nil, fmt.Errorf("wav-stereo needs two audio tracks, recording has %d", len(audio))
	}
	return audio[:2], nil
}

// Verify checks every chunk of a recording and compares the object with
// the index as an export does. It reads what verifies (a salvage read) and
// returns the summary with ErrNotComplete or ErrIntegrity when the
// recording is not whole.
func (s *Service) Verify(ctx context.Context, id string) (seal.Summary, error) {
	rec, res, err := s.openForExport(ctx, id, true)
	if err != nil {
		return seal.Summary{}, err
	}
	defer rec.Close()
	sum, rerr := rec.ScanRecords(func(seal.Record) error { return nil })
	if err := settle(rec.Index, &res, sum, rerr); err != nil {
		return sum, err
	}
	sum.Status = res.Status
	if !res.Verified {
		kind := ErrIntegrity
		if !finalIndex(res.IndexStatus) {
			kind = ErrNotComplete
		}
		return sum, fmt.Errorf("%w: recording %s: %s", kind, id, strings.Join(res.Problems, "; "))
	}
	return sum, nil
}
