package gatewaytest

import (
	"context"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// The services of the gateway under test, reached the way the tests name
// them.

// Export decrypts, verifies and exports recording id (playback.Service.Export).
func (tg *Gateway) Export(ctx context.Context, id, format, track string, w io.Writer) (playback.Result, error) {
	return tg.Playback().Export(ctx, id, format, track, playback.Options{}, w)
}

// Verify checks every chunk of a recording against the index.
func (tg *Gateway) Verify(ctx context.Context, id string) (seal.Summary, error) {
	return tg.Playback().Verify(ctx, id)
}

// OpenRecording opens a recording for reading.
func (tg *Gateway) OpenRecording(ctx context.Context, id string) (*playback.Recording, error) {
	return tg.Playback().Open(ctx, id)
}

// Jobs is the service of re-encryption jobs and key rotation.
func (tg *Gateway) Jobs() *jobs.Service { return tg.ControlPlane().Jobs() }

// RefreshCatalog reloads the policies and keys from the store now.
func (tg *Gateway) RefreshCatalog(ctx context.Context) error { return tg.ControlPlane().Refresh(ctx) }

// CeremonyWrapper is the key wrapper of the ceremony's signing keys.
func (tg *Gateway) CeremonyWrapper() auth.KeyWrapper { return tg.ControlPlane().Wrapper() }

// TokenIssuer is the issuer the ceremony's tokens carry.
func (tg *Gateway) TokenIssuer() string { return tg.ControlPlane().TokenIssuer() }

// ShredKey crypto-shreds a registered key (controlplane.Service.ShredKey).
func (tg *Gateway) ShredKey(ctx context.Context, keyID, actor string) (int64, error) {
	return tg.ControlPlane().ShredKey(ctx, keyID, actor)
}

// SessionsRefused is the counter of session requests refused for reason.
func (tg *Gateway) SessionsRefused(reason string) prometheus.Counter {
	return tg.Metrics().Refused(reason)
}
