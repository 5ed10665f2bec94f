package gateway

import (
	"context"
	"errors"
	"fmt"
	"github.com/mediaseal/mediaseal/kms"
	"io"

	"github.com/mediaseal/mediaseal/ceremony/api"
	play "github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/playback/offline"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Export formats, results and refusals are playback's.
const (
	FormatWAV       = play.FormatWAV
	FormatWAVStereo = play.FormatWAVStereo
	FormatPCAP      = play.FormatPCAP
	FormatOgg       = play.FormatOgg
	FormatIVF       = play.FormatIVF
	FormatH264      = play.FormatH264
	FormatWebM      = play.FormatWebM
	FormatMKV       = play.FormatMKV
)

type (
	ExportResult  = play.Result
	ExportOptions = play.Options
	Recording     = play.Recording
)

var (
	ErrNotComplete       = play.ErrNotComplete
	ErrIntegrity         = play.ErrIntegrity
	ErrRecordingNotFound = play.ErrRecordingNotFound
)

// newPlayback serves the gateway's playback from its own stores, spool
// and key path.
func (g *Gateway) newPlayback() (*play.Service, error) {
	return play.New(play.Deps{
		Objects:  g.objects,
		Index:    offline.Index(g.index, kms.NameOfType),
		Keys:     play.KeysFunc(g.unwrap),
		Spool:    g.spool,
		Platform: g.platformRef(),
	})
}

// Export decrypts, verifies and exports recording id (play.Service.Export).
func (g *Gateway) Export(ctx context.Context, id, format, track string, w io.Writer) (ExportResult, error) {
	return g.playback.Export(ctx, id, format, track, ExportOptions{}, w)
}

// ExportWith is Export with options.
func (g *Gateway) ExportWith(ctx context.Context, id, format, track string, opts ExportOptions, w io.Writer) (ExportResult, error) {
	return g.playback.Export(ctx, id, format, track, opts, w)
}

// Verify checks every chunk of a recording against the index (play.Service.Verify).
func (g *Gateway) Verify(ctx context.Context, id string) (seal.Summary, error) {
	return g.playback.Verify(ctx, id)
}

// OpenRecording opens a recording for reading (play.Service.Open).
func (g *Gateway) OpenRecording(ctx context.Context, id string) (*Recording, error) {
	return g.playback.Open(ctx, id)
}

// exporter lets the playback endpoint stream playback's export.
type exporter struct{ p *play.Service }

func (e exporter) ExportRecording(ctx context.Context, req api.ExportRequest, w io.Writer) (api.ExportReport, error) {
	opts := ExportOptions{Salvage: req.Salvage}
	if req.Verified != nil {
		opts.Verified = func(res ExportResult) { req.Verified(exportReport(res)) }
	}
	res, err := e.p.Export(ctx, req.ID, req.Format, req.Track, opts, w)
	return exportReport(res), apiExportError(err)
}

// exportReport is what the playback API learns of an export.
func exportReport(res ExportResult) api.ExportReport {
	rep := api.ExportReport{IndexStatus: res.IndexStatus, Chunks: res.Chunks, Verified: res.Verified, Problems: res.Problems}
	if res.Status != seal.StatusUnknown {
		rep.Status = res.Status.String()
	}
	return rep
}

// apiExportError gives an export refusal the API's sentinel, so that the
// playback answers with its code.
func apiExportError(err error) error {
	switch {
	case errors.Is(err, ErrNotComplete):
		return fmt.Errorf("%w: %w", api.ErrRecordingIncomplete, err)
	case errors.Is(err, ErrIntegrity):
		return fmt.Errorf("%w: %w", api.ErrRecordingIntegrity, err)
	}
	return err
}
