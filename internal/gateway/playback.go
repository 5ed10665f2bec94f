package gateway

import (
	"context"
	"io"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/internal/adapters"
	play "github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/playback/offline"
)

// newPlayback serves the gateway's playback from its own stores, spool
// and key path.
func (g *Gateway) newPlayback() (*play.Service, error) {
	return play.New(play.Deps{Objects: g.objects, Index: offline.Index(g.index, adapters.ProviderOf),
		Keys: g.recordingKeys(), Spool: g.spool, Platform: g.platformRef()})
}

// Playback opens, verifies and exports the gateway's recordings.
func (g *Gateway) Playback() *play.Service { return g.playback }

// ExportOptions are playback's.
type ExportOptions = play.Options

// ExportWith exports recording id (play.Service.Export).
func (g *Gateway) ExportWith(ctx context.Context, id, format, track string, opts ExportOptions, w io.Writer) (play.Result, error) {
	return g.playback.Export(ctx, id, format, track, opts, w)
}

// exporter lets the playback endpoint stream playback's export.
type exporter struct{ p *play.Service }

func (e exporter) ExportRecording(ctx context.Context, req api.ExportRequest, w io.Writer) (api.ExportReport, error) {
	return controlplane.ExportRecording(ctx, e.p, req, w)
}
