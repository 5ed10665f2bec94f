package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// AudioHook integrations (docs/audiohook.md): the API keys and client
// secrets a contact-centre platform signs its AudioHook upgrades with.
// They decide which platform may feed calls into the recorder, the same
// authority as a recording policy, so they take the policy scopes; every
// change is audited, and the client secret is answered once, on create.

// AudioHookAdmin is the control plane's integrations.
type AudioHookAdmin interface {
	CreateAudioHookIntegration(ctx context.Context, name, org, by string) (store.AudioHookIntegration, string, error)
	ListAudioHookIntegrations(ctx context.Context) ([]store.AudioHookIntegration, error)
	SetAudioHookIntegrationState(ctx context.Context, id, state string) (store.AudioHookIntegration, error)
}

func (s *server) audioHookRoutes() []Route {
	return []Route{
		{"POST", "/api/v2/audiohook/integrations", ScopePolicyWrite, s.createAudioHookIntegration},
		{"GET", "/api/v2/audiohook/integrations", ScopePolicyRead, s.listAudioHookIntegrations},
		{"POST", "/api/v2/audiohook/integrations/{id}/{state}", ScopePolicyWrite, s.setAudioHookIntegrationState},
	}
}

type audioHookJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	APIKey         string    `json:"apiKey"`
	ClientSecret   string    `json:"clientSecret,omitempty"`
	OrganizationID string    `json:"organizationId,omitempty"`
	State          string    `json:"state"`
	CreatedBy      string    `json:"createdBy"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func toAudioHookJSON(i store.AudioHookIntegration) audioHookJSON {
	return audioHookJSON{ID: i.ID, Name: i.Name, APIKey: i.APIKey, OrganizationID: i.OrganizationID, State: i.State,
		CreatedBy: i.CreatedBy, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt}
}

func (s *server) audioHook() (AudioHookAdmin, error) {
	if s.deps.AudioHook == nil {
		return nil, errorf(http.StatusNotFound, CodeNotFound, "AudioHook integrations are not enabled on this gateway")
	}
	return s.deps.AudioHook, nil
}

func (s *server) createAudioHookIntegration(w http.ResponseWriter, r *http.Request) error {
	ah, err := s.audioHook()
	if err != nil {
		return err
	}
	var b struct {
		Name           string `json:"name"`
		OrganizationID string `json:"organizationId"`
	}
	if err := s.decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	if b.Name == "" || len(b.Name) > 64 || len(b.OrganizationID) > 64 {
		return fieldError("name", "is required (1-64 characters; organizationId at most 64)")
	}
	p, _ := PrincipalFrom(r.Context())
	i, secret, err := ah.CreateAudioHookIntegration(r.Context(), b.Name, b.OrganizationID, p.ID)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		return errorf(http.StatusConflict, CodeConflict, "an AudioHook integration named %q exists", b.Name)
	case err != nil:
		return err
	}
	s.audit(r, "audiohook integration created", zap.String("integration", i.ID), zap.String("name", i.Name),
		zap.String("organization", i.OrganizationID))
	out := toAudioHookJSON(i)
	out.ClientSecret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *server) listAudioHookIntegrations(w http.ResponseWriter, r *http.Request) error {
	ah, err := s.audioHook()
	if err != nil {
		return err
	}
	list, err := ah.ListAudioHookIntegrations(r.Context())
	if err != nil {
		return err
	}
	out := make([]audioHookJSON, 0, len(list))
	for _, i := range list {
		out = append(out, toAudioHookJSON(i))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out})
	return nil
}

func (s *server) setAudioHookIntegrationState(w http.ResponseWriter, r *http.Request) error {
	ah, err := s.audioHook()
	if err != nil {
		return err
	}
	state := map[string]string{"disable": store.IntegrationDisabled, "enable": store.IntegrationActive}[r.PathValue("state")]
	if state == "" {
		return errorf(http.StatusNotFound, CodeNotFound, "no endpoint %s %s (disable or enable)", r.Method, r.URL.Path)
	}
	i, err := ah.SetAudioHookIntegrationState(r.Context(), r.PathValue("id"), state)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, CodeNotFound, "AudioHook integration %q not found", r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	s.audit(r, "audiohook integration "+r.PathValue("state")+"d", zap.String("integration", i.ID), zap.String("name", i.Name))
	writeJSON(w, http.StatusOK, toAudioHookJSON(i))
	return nil
}
