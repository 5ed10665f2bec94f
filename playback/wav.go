package playback

import (
	"fmt"
	"io"

	"github.com/mediaseal/mediaseal/media/export"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// exportWAV streams a mono or stereo WAV of rec: export.StreamWAV reads
// the recording several times (plan, measure, write) and keeps no packet.
// The first read is read, which verifies the whole recording and settles
// it against the index before a byte is written; every later read is
// authenticated again chunk by chunk and must end as the first did
// (*first, *firstErr), or the export fails as ErrIntegrity (the object
// changed in between: a store holder swapping versions) and the caller
// aborts what it has sent.
func exportWAV(rec *Recording, read recordPass, first *seal.Summary, firstErr *error, h export.Header, c container, track string, w io.Writer, res *Result) error {
	labels, err := c.tracks(&export.Timeline{Header: h}, track)
	if err != nil {
		return err
	}
	passes := 0
	pass := func(fn func(export.Record)) error {
		if passes++; passes == 1 {
			return read(func(r seal.Record) { fn(toExport(r)) })
		}
		sum, rerr := rec.ScanRecords(func(r seal.Record) error { fn(toExport(r)); return nil })
		if rerr != nil && !sealDamage(rerr) {
			return rerr
		}
		if sum != *first || (rerr == nil) != (*firstErr == nil) {
			return fmt.Errorf("%w: recording %s changed while it was exported: %d chunks (%s) read, %d (%s) verified",
				ErrIntegrity, rec.Index.ID, sum.Chunks, sum.Status, first.Chunks, first.Status)
		}
		return nil
	}
	tl, fallback, err := export.StreamWAV(w, h, c.opts, pass, labels...)
	res.WAVFallback = fallback
	if tl != nil {
		for _, t := range tl.Tracks {
			res.Tracks = append(res.Tracks, t.Summary)
		}
	}
	return err
}
