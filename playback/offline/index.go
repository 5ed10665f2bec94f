package offline

import (
	"context"
	"errors"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/playback"
)

// Index is the recordings index and key registry of st as playback reads
// them; providerOf maps a registry key type to its provider name. The
// running gateway serves its playback through it too.
func Index(st *store.SQL, providerOf func(keyType string) string) playback.Index {
	return index{st: st, providerOf: providerOf}
}

type index struct {
	st         *store.SQL
	providerOf func(string) string
}

func (x index) Recording(ctx context.Context, id string) (playback.Entry, bool, error) {
	r, err := x.st.GetRecording(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return playback.Entry{}, false, nil
	}
	if err != nil {
		return playback.Entry{}, false, err
	}
	return playback.Entry{ID: r.ID, Status: r.Status, ObjectKey: r.ObjectKey, Bytes: r.Bytes, SHA256: r.SHA256, Chunks: r.Chunks,
		KeyProvider: r.KeyProvider, KeyID: r.KeyID, KeyVersion: r.KeyVersion, WrappedDEK: r.WrappedDEK}, true, nil
}

func (x index) KeyNotEnabled(ctx context.Context, provider, keyID string) (string, string, error) {
	keys, err := x.st.ListKeys(ctx)
	if err != nil {
		return "", "", err
	}
	if k, ok := store.NotEnabledKey(keys, provider, keyID, x.providerOf); ok {
		return k.ID, k.State, nil
	}
	return "", "", nil
}
