package playback

import (
	"io"

	"github.com/mediaseal/mediaseal/media/export"
)

// exportMatroska writes a call's video track (track, or the first video
// track the container carries) and every audio track it carries into one
// WebM or Matroska file.
func exportMatroska(read recordPass, res *Result, h export.Header, format, track string, w io.Writer) (Result, error) {
	tl, err := buildTimeline(read, h, export.Options{})
	if err != nil {
		return *res, err
	}
	labels, err := export.MatroskaTracks(tl, format == FormatWebM, track)
	if err != nil {
		return *res, err
	}
	for _, l := range labels {
		if t, err := tl.Track(l); err == nil {
			res.Tracks = append(res.Tracks, t.Summary)
		}
	}
	if format == FormatWebM {
		_, err = export.WriteWebM(w, tl, labels...)
	} else {
		_, err = export.WriteMKV(w, tl, labels...)
	}
	return *res, err
}
