package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AudioHook integration states.
const (
	IntegrationActive   = "ACTIVE"
	IntegrationDisabled = "DISABLED"
)

// AudioHookIntegration is one platform integration allowed to stream
// AudioHook sessions. Secret is the stored (wrapped) client secret.
type AudioHookIntegration struct {
	ID             string
	Name           string
	APIKey         string
	Secret         string
	OrganizationID string
	State          string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const audioHookColumns = `id, name, api_key, secret, organization_id, state, created_by, created_at, updated_at`

// CreateAudioHookIntegration stores i (ACTIVE); ErrDuplicate when its
// name or API key is taken.
func (s *SQL) CreateAudioHookIntegration(ctx context.Context, i AudioHookIntegration) (AudioHookIntegration, error) {
	if i.ID == "" || i.Name == "" || i.APIKey == "" || i.Secret == "" || i.CreatedBy == "" {
		return AudioHookIntegration{}, fmt.Errorf("%w: an integration needs an id, a name, an API key, a secret and its creator", ErrInvalid)
	}
	now := s.now().UTC()
	i.State, i.CreatedAt, i.UpdatedAt = IntegrationActive, now, now
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO audiohook_integrations (`+audioHookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		i.ID, i.Name, i.APIKey, i.Secret, i.OrganizationID, i.State, i.CreatedBy, now.UnixNano(), now.UnixNano())
	if isUniqueViolation(err) {
		return AudioHookIntegration{}, fmt.Errorf("%w: an integration with this name or API key exists", ErrDuplicate)
	}
	if err != nil {
		return AudioHookIntegration{}, fmt.Errorf("store: create AudioHook integration: %w", err)
	}
	return i, nil
}

// AudioHookIntegrationByKey returns the integration of an API key, or
// ErrNotFound.
func (s *SQL) AudioHookIntegrationByKey(ctx context.Context, apiKey string) (AudioHookIntegration, error) {
	return s.audioHookWhere(ctx, "api_key = ?", apiKey)
}

// GetAudioHookIntegration returns one integration, or ErrNotFound.
func (s *SQL) GetAudioHookIntegration(ctx context.Context, id string) (AudioHookIntegration, error) {
	return s.audioHookWhere(ctx, "id = ?", id)
}

func (s *SQL) audioHookWhere(ctx context.Context, cond string, arg string) (AudioHookIntegration, error) {
	i, err := scanAudioHook(s.db.QueryRowContext(ctx, s.q(`SELECT `+audioHookColumns+` FROM audiohook_integrations WHERE `+cond), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return AudioHookIntegration{}, fmt.Errorf("%w: AudioHook integration", ErrNotFound)
	}
	if err != nil {
		return AudioHookIntegration{}, fmt.Errorf("store: AudioHook integration: %w", err)
	}
	return i, nil
}

// ListAudioHookIntegrations lists every integration by name.
func (s *SQL) ListAudioHookIntegrations(ctx context.Context) ([]AudioHookIntegration, error) {
	return list(ctx, s, listQuery{what: "list AudioHook integrations", columns: audioHookColumns, table: "audiohook_integrations",
		order: "name", limit: MaxListLimit}, scanAudioHook)
}

// SetAudioHookIntegrationState enables or disables an integration.
func (s *SQL) SetAudioHookIntegrationState(ctx context.Context, id, state string) (AudioHookIntegration, error) {
	if state != IntegrationActive && state != IntegrationDisabled {
		return AudioHookIntegration{}, fmt.Errorf("%w: state %q", ErrInvalid, state)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE audiohook_integrations SET state = ?, updated_at = ? WHERE id = ?`),
		state, s.now().UnixNano(), id)
	if err != nil {
		return AudioHookIntegration{}, fmt.Errorf("store: AudioHook integration state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return AudioHookIntegration{}, fmt.Errorf("%w: AudioHook integration %s", ErrNotFound, id)
	}
	return s.GetAudioHookIntegration(ctx, id)
}

func scanAudioHook(sc scanner) (AudioHookIntegration, error) {
	var i AudioHookIntegration
	var created, updated int64
	if err := sc.Scan(&i.ID, &i.Name, &i.APIKey, &i.Secret, &i.OrganizationID, &i.State, &i.CreatedBy, &created, &updated); err != nil {
		return AudioHookIntegration{}, err
	}
	i.CreatedAt, i.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return i, nil
}
