package api

import (
	"net/http"
	"time"
)

// gatewayJSON is one member of the cluster: its lease and, once a peer
// found it expired, how many ACTIVE recordings it left awaiting recovery.
type gatewayJSON struct {
	ID        string    `json:"id"`
	Instance  string    `json:"instance"`
	Addr      string    `json:"addr"`
	State     string    `json:"state"`
	StartedAt time.Time `json:"startedAt"`
	RenewedAt time.Time `json:"renewedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	ExpiredBy string    `json:"expiredBy,omitempty"`
	Orphaned  int64     `json:"recordingsAwaitingRecovery"`
}

func (s *server) listGateways(w http.ResponseWriter, r *http.Request) error {
	list, err := s.deps.Store.ListGatewayLeases(r.Context())
	if err != nil {
		return err
	}
	out := make([]gatewayJSON, 0, len(list))
	for _, l := range list {
		out = append(out, gatewayJSON{ID: l.ID, Instance: l.Instance, Addr: l.Addr, State: l.State, StartedAt: l.Started,
			RenewedAt: l.Renewed, ExpiresAt: l.Expires, ExpiredBy: l.ExpiredBy, Orphaned: l.Orphaned})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out})
	return nil
}
