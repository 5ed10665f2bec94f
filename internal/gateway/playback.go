package gateway

import (
	"context"
	"io"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/internal/adapters"
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
		Index:    offline.Index(g.index, adapters.ProviderOf),
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
	return controlplane.ExportRecording(ctx, e.p, req, w)
}
