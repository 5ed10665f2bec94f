package config

import (
	"github.com/mediaseal/mediaseal/cluster"
	"time"
)

// GatewayMember is how this gateway takes part in a cluster of gateways
// sharing one store (the `gateway` section).
type GatewayMember struct {
	// ID names this gateway in the index (each recording's gatewayId),
	// in the lease table and in audit events. It must stay the same across
	// restarts so that a restarted gateway reclaims (and recovers) its own
	// recordings, and differ between gateways: two live gateways with one
	// id are refused. Empty: a random id generated on first start and kept
	// in <dataDir>/gateway.id.
	ID string `yaml:"id"`
	// LeaseTTL is how long a gateway's lease in the store lasts without a
	// renewal (it renews every third of it). A gateway silent for longer
	// is considered dead: the others mark its ACTIVE recordings as awaiting
	// recovery. Gateway clocks must agree to well within it.
	LeaseTTL Duration `yaml:"leaseTTL"`
}

// Gateway membership defaults and bounds.
const (
	DefaultLeaseTTL = 15 * time.Second
	MinLeaseTTL     = 300 * time.Millisecond
	MaxLeaseTTL     = 10 * time.Minute
)

// ValidGatewayID reports whether id may name a gateway (cluster.ValidID).
func ValidGatewayID(id string) bool { return cluster.ValidID(id) }

func (m *GatewayMember) applyDefaults() { setInt(&m.LeaseTTL, Duration(DefaultLeaseTTL)) }

func (m GatewayMember) validate() error {
	if m.ID != "" && !ValidGatewayID(m.ID) {
		return &FieldError{"gateway.id", m.ID, "must be 1-63 lower-case letters, digits, . _ - (starting with a letter or digit)"}
	}
	if d := m.LeaseTTL.D(); d < MinLeaseTTL || d > MaxLeaseTTL {
		return &FieldError{"gateway.leaseTTL", d, "must be between 300ms and 10m"}
	}
	return nil
}
