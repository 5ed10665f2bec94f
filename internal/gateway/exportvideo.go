package gateway

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mediaseal/mediaseal/media/export"
)

// exportMatroska writes a call's video track (track, or the first video
// track) and every Opus audio track into one WebM or Matroska file.
func (g *Gateway) exportMatroska(_ context.Context, rec *Recording, h export.Header, format, track string, w io.Writer) (ExportResult, error) {
	var res ExportResult
	tl, st, err := buildTimeline(rec, h)
	res.Status = st
	if err != nil {
		return res, err
	}
	var labels []string
	for _, t := range h.Tracks {
		if t.Kind == "video" && (track == t.Label || track == "" && len(labels) == 0) {
			labels = append(labels, t.Label)
		}
	}
	if track != "" && len(labels) == 0 {
		return res, fmt.Errorf("%w: %q is not a video track", export.ErrNoTrack, track)
	}
	for _, t := range h.Tracks {
		if t.Kind == "audio" && strings.EqualFold(t.Codec, "opus") {
			labels = append(labels, t.Label)
		}
	}
	if len(labels) == 0 {
		return res, fmt.Errorf("%w: %s needs a video or Opus track", export.ErrNoTrack, format)
	}
	for _, l := range labels {
		t, _ := tl.Track(l)
		res.Tracks = append(res.Tracks, t.Summary)
	}
	if format == FormatWebM {
		_, err = export.WriteWebM(w, tl, labels...)
	} else {
		_, err = export.WriteMKV(w, tl, labels...)
	}
	return res, err
}
