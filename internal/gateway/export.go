package gateway

import (
	"context"
	"fmt"
	"io"
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

// ExportResult says what an export wrote.
type ExportResult struct {
	Status  seal.Status
	Chunks  int64
	Tracks  []export.Summary
	Packets int
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

// Export decrypts and verifies recording id and writes it to w as format.
// track selects the track of a mono WAV (default: the first).
func (g *Gateway) Export(ctx context.Context, id, format, track string, w io.Writer) (ExportResult, error) {
	rec, err := g.OpenRecording(ctx, id)
	if err != nil {
		return ExportResult{}, err
	}
	defer rec.Close()
	h := exportHeader(rec.Header())
	var res ExportResult
	switch format {
	case FormatPCAP:
		var src export.SliceSource
		st, err := rec.Records(func(r seal.Record) error {
			x := toExport(r)
			x.Data = append([]byte(nil), r.Data...)
			src.Records = append(src.Records, x)
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Status = st
		ps, err := export.WritePCAP(w, h, &src, export.PCAPOptions{})
		res.Packets = ps.Packets
		return res, err
	case FormatWebM, FormatMKV:
		return g.exportMatroska(ctx, rec, h, format, track, w)
	case FormatOgg, FormatIVF, FormatH264:
		tl, st, err := buildTimeline(rec, h)
		res.Status = st
		if err != nil {
			return res, err
		}
		kind := map[string]string{FormatOgg: "audio", FormatIVF: "video", FormatH264: "video"}[format]
		if track == "" {
			for _, t := range h.Tracks {
				if t.Kind == kind {
					track = t.Label
					break
				}
			}
		}
		for _, t := range tl.Tracks {
			if t.Track.Label == track {
				res.Tracks = append(res.Tracks, t.Summary)
			}
		}
		switch format {
		case FormatOgg:
			_, err = export.WriteOggOpus(w, tl, track)
		case FormatIVF:
			_, err = export.WriteIVF(w, tl, track)
		default:
			_, err = export.WriteH264(w, tl, track)
		}
		return res, err
	case FormatWAV, FormatWAVStereo:
		b, err := export.NewBuilder(h, export.Options{})
		if err != nil {
			return res, err
		}
		st, err := rec.Records(func(r seal.Record) error { b.Add(toExport(r)); return nil })
		if err != nil {
			return res, err
		}
		res.Status = st
		tl, err := b.Finish()
		if err != nil {
			return res, err
		}
		for _, t := range tl.Tracks {
			res.Tracks = append(res.Tracks, t.Summary)
		}
		if format == FormatWAVStereo {
			left, right, err := stereoLabels(h)
			if err != nil {
				return res, err
			}
			return res, export.WriteWAVStereo(w, tl, left, right)
		}
		if track == "" && len(h.Tracks) > 0 {
			track = h.Tracks[0].Label
		}
		return res, export.WriteWAV(w, tl, track)
	default:
		return res, fmt.Errorf("unknown format %q (want wav, wav-stereo, pcap, ogg, ivf, h264, webm or mkv)", format)
	}
}

// buildTimeline rebuilds every track of a recording.
func buildTimeline(rec *Recording, h export.Header) (*export.Timeline, seal.Status, error) {
	b, err := export.NewBuilder(h, export.Options{})
	if err != nil {
		return nil, 0, err
	}
	st, err := rec.Records(func(r seal.Record) error { b.Add(toExport(r)); return nil })
	if err != nil {
		return nil, st, err
	}
	tl, err := b.Finish()
	return tl, st, err
}

// stereoLabels puts the caller left and the agent right; without those
// labels, the first two audio tracks.
func stereoLabels(h export.Header) (string, string, error) {
	has := map[string]bool{}
	var audio []string
	for _, t := range h.Tracks {
		has[t.Label] = true
		if t.Kind == "audio" {
			audio = append(audio, t.Label)
		}
	}
	if has["caller"] && has["agent"] {
		return "caller", "agent", nil
	}
	if len(audio) < 2 {
		return "", "", fmt.Errorf("wav-stereo needs two audio tracks, recording has %d", len(audio))
	}
	return audio[0], audio[1], nil
}

// Verify checks every chunk of a recording.
func (g *Gateway) Verify(ctx context.Context, id string) (seal.Summary, error) {
	rec, err := g.OpenRecording(ctx, id)
	if err != nil {
		return seal.Summary{}, err
	}
	defer rec.Close()
	return rec.Reader.Verify()
}
