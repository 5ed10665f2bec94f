package gateway

import (

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
