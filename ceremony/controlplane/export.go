package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Exporter is the playback endpoint's api.Exporter: it streams the
// verified export of a playback service.
type Exporter struct{ Playback *playback.Service }

var _ api.Exporter = Exporter{}

// ExportRecording implements api.Exporter.
func (e Exporter) ExportRecording(ctx context.Context, req api.ExportRequest, w io.Writer) (api.ExportReport, error) {
	p := e.Playback
	opts := playback.Options{Salvage: req.Salvage}
	if req.Verified != nil {
		opts.Verified = func(res playback.Result) { req.Verified(exportReport(res)) }
	}
	res, err := p.Export(ctx, req.ID, req.Format, req.Track, opts, w)
	return exportReport(res), apiExportError(err)
}

// exportReport is what the playback API learns of an export.
func exportReport(res playback.Result) api.ExportReport {
	rep := api.ExportReport{IndexStatus: res.IndexStatus, Chunks: res.Chunks, Verified: res.Verified, Problems: res.Problems,
		WAVFallback: res.WAVFallback}
	if res.Status != seal.StatusUnknown {
		rep.Status = res.Status.String()
	}
	return rep
}

// apiExportError gives an export refusal the API's sentinel, so that the
// playback answers with its code.
func apiExportError(err error) error {
	switch {
	case errors.Is(err, playback.ErrNotComplete):
		return fmt.Errorf("%w: %w", api.ErrRecordingIncomplete, err)
	case errors.Is(err, playback.ErrIntegrity):
		return fmt.Errorf("%w: %w", api.ErrRecordingIntegrity, err)
	}
	return err
}
