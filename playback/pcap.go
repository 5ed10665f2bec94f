package playback

import (
	"fmt"
	"io"

	"github.com/mediaseal/mediaseal/media/export"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// exportPCAP streams the records of rec, already verified whole by a
// first read that ended as first (and firstErr), into a capture. Each chunk is
// authenticated again as it is read; a read that ends otherwise than the
// first (the object changed in between: a store holder swapping it for
// another version under the same key) fails as ErrIntegrity, and the
// caller aborts what it has sent.
func exportPCAP(rec *Recording, h export.Header, first seal.Summary, firstErr error, w io.Writer, res *Result) error {
	pw, err := export.NewPCAPWriter(w, h, export.PCAPOptions{})
	if err != nil {
		return err
	}
	sum, rerr := rec.ScanRecords(func(r seal.Record) error { return pw.Add(toExport(r)) })
	res.Packets = pw.Stats().Packets
	if rerr != nil && !sealDamage(rerr) {
		return rerr // the writer's or the store's failure
	}
	// Summaries are plain values: equal means the same chunks, records
	// and end, and the same damage in a salvage read.
	if sum != first || (rerr == nil) != (firstErr == nil) {
		return fmt.Errorf("%w: recording %s changed while it was exported: %d chunks (%s) read, %d (%s) verified",
			ErrIntegrity, rec.Index.ID, sum.Chunks, sum.Status, first.Chunks, first.Status)
	}
	if err := pw.Close(); err != nil {
		return err
	}
	res.Packets = pw.Stats().Packets
	return nil
}
