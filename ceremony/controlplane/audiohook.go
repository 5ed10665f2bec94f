package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/media/audiohook"
)

// AudioHook integrations live in the control plane: created through the
// API (the client secret answered once, stored only wrapped under the
// platform key and bound to the integration's id), read by the endpoint
// at each upgrade, and every refused upgrade is counted and audited with
// the failed-authentication aggregation.

// AudioHookSource is the control plane's integrations for the AudioHook
// endpoint (nil before Open).
func (s *Service) AudioHookSource() audiohook.Source {
	if s.auth == nil {
		return nil
	}
	return &audioHookSource{s: s}
}

type audioHookSource struct {
	s      *Service
	opened sync.Map // id + stored secret → secret bytes
}

func integrationContext(id string) kms.EncryptionContext {
	return kms.EncryptionContext{"purpose": "mediaseal/audiohook-secret", "integration": id}
}

// Lookup implements audiohook.Source.
func (a *audioHookSource) Lookup(ctx context.Context, apiKey string) (audiohook.Integration, bool, error) {
	row, err := a.s.st.AudioHookIntegrationByKey(ctx, apiKey)
	if errors.Is(err, store.ErrNotFound) {
		return audiohook.Integration{}, false, nil
	}
	if err != nil {
		return audiohook.Integration{}, false, err
	}
	if row.State != store.IntegrationActive {
		return audiohook.Integration{}, false, nil
	}
	secret, err := a.secret(ctx, row)
	if err != nil {
		return audiohook.Integration{}, false, err
	}
	return audiohook.Integration{Name: row.Name, APIKey: row.APIKey, Secret: secret, OrganizationID: row.OrganizationID}, true, nil
}

func (a *audioHookSource) secret(ctx context.Context, row store.AudioHookIntegration) ([]byte, error) {
	key := row.ID + "\x00" + row.Secret
	if v, ok := a.opened.Load(key); ok {
		return v.([]byte), nil
	}
	b64, ok := strings.CutPrefix(row.Secret, wrappedSecretPrefix)
	wrapped, err := base64.StdEncoding.DecodeString(b64)
	p := a.s.deps.Providers[a.s.deps.PlatformKey.Provider]
	if !ok || err != nil || p == nil {
		return nil, errors.New("the integration's secret cannot be opened here")
	}
	plain, err := p.Unwrap(ctx, a.s.deps.PlatformKey, wrapped, integrationContext(row.ID))
	if err != nil {
		return nil, err
	}
	a.opened.Store(key, plain)
	return plain, nil
}

// Refused implements audiohook.Source.
func (a *audioHookSource) Refused(ctx context.Context, reason, apiKey string, r *http.Request) {
	key := apiKey
	if len(key) > 64 {
		key = key[:64]
	}
	if key == "" {
		key = r.RemoteAddr
	}
	a.s.auth.Failed(ctx, auth.FailureAudioHook, key, "audiohook.upgrade", r.Header.Get(audiohook.HeaderSessionID), reason)
}

// CreateAudioHookIntegration makes an integration with a new API key and
// client secret; the secret (base64, as the platform asks for it) is
// returned here only.
func (s *Service) CreateAudioHookIntegration(ctx context.Context, name, org, by string) (store.AudioHookIntegration, string, error) {
	p := s.deps.Providers[s.deps.PlatformKey.Provider]
	if p == nil {
		return store.AudioHookIntegration{}, "", errors.New("the platform key's provider is not open")
	}
	id := store.NewID()
	dk, err := p.GenerateDataKey(ctx, s.deps.PlatformKey, integrationContext(id))
	if err != nil {
		return store.AudioHookIntegration{}, "", err
	}
	defer dk.Wipe()
	var kb [16]byte
	_, _ = rand.Read(kb[:])
	row, err := s.st.CreateAudioHookIntegration(ctx, store.AudioHookIntegration{ID: id, Name: name, APIKey: "ah_" + hex.EncodeToString(kb[:]),
		Secret: wrappedSecretPrefix + base64.StdEncoding.EncodeToString(dk.Wrapped), OrganizationID: org, CreatedBy: by})
	if err != nil {
		return store.AudioHookIntegration{}, "", err
	}
	return row, base64.StdEncoding.EncodeToString(dk.Plaintext), nil
}

// audioHookAdmin is the API's view of the integrations.
type audioHookAdmin struct{ s *Service }

func (a audioHookAdmin) CreateAudioHookIntegration(ctx context.Context, name, org, by string) (store.AudioHookIntegration, string, error) {
	return a.s.CreateAudioHookIntegration(ctx, name, org, by)
}

func (a audioHookAdmin) ListAudioHookIntegrations(ctx context.Context) ([]store.AudioHookIntegration, error) {
	return a.s.st.ListAudioHookIntegrations(ctx)
}

func (a audioHookAdmin) SetAudioHookIntegrationState(ctx context.Context, id, state string) (store.AudioHookIntegration, error) {
	return a.s.st.SetAudioHookIntegrationState(ctx, id, state)
}
