package config

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Ceremony configures the key ceremony: the try-out conveniences of a first
// start and the quorum of each operation.
type Ceremony struct {
	// BootstrapPrincipals creates the organisation's first principals on
	// first start and writes their client credentials to
	// <dataDir>/credentials (0600), so a newcomer can try a whole
	// ceremony. Default true; production configs set false and provision
	// principals instead.
	BootstrapPrincipals *bool `yaml:"bootstrapPrincipals"`
	// AdminToken accepts the bootstrap <dataDir>/admin.token on the
	// control plane (policies and keys, never a quorum operation). Default
	// false: the trial uses the bootstrap principals' credentials
	// (mediaseal token); set true only for first steps.
	AdminToken *bool `yaml:"adminToken"`
	// PlatformPlaybackQuorum makes playback and export of platform-key
	// recordings need an approved quorum too (customer-key recordings
	// always do). Default true. Like Quorum it only seeds the shared
	// store on first start; later a value that differs from the store
	// refuses the start (ceremony/controlplane/quorumstore.go).
	PlatformPlaybackQuorum *bool `yaml:"platformPlaybackQuorum"`
	// Quorum overrides the default rule of an operation (key.bind,
	// policy.encryption_key, key.disable, key.delete, recording.playback);
	// fields left out keep the default. The rules live in the shared
	// control-plane store: these values seed it on first start, a value
	// that differs from the store later refuses the start, and rules change
	// only by a ceremony.quorum approval (docs/ceremony.md).
	Quorum map[string]QuorumRule `yaml:"quorum"`
	// SweepInterval is how often the gateway expires stale proposals and
	// executes the scheduled operations (key.disable, key.delete) whose
	// delay is over. Default 30s.
	SweepInterval *Duration `yaml:"sweepInterval"`
}

// QuorumRule is the quorum of one operation.
type QuorumRule struct {
	// Approvals is M: distinct approvals needed, never the proposer's.
	Approvals int `yaml:"approvals"`
	// Of is N: eligible principals besides the proposer that must exist
	// when proposing (default M).
	Of int `yaml:"of"`
	// EligibleRoles are the roles whose holders may approve.
	EligibleRoles []string `yaml:"eligibleRoles"`
	// Delay is how long an approved operation waits, open to veto, before
	// it may run (key.disable 24h and key.delete 168h by default).
	Delay *Duration `yaml:"delay"`
}

// CeremonyOperations are the operations that need a quorum.
var CeremonyOperations = []string{"key.bind", "policy.encryption_key", "key.disable", "key.delete", "recording.playback"}

// CeremonyRoles are the roles a quorum rule may name.
var CeremonyRoles = []string{"key_admin", "policy_admin", "auditor", "media_service", "playback_requester", "approver"}

// DefaultSweepInterval is the default of ceremony.sweepInterval.
const DefaultSweepInterval = Duration(30 * time.Second)

// Quorum bounds.
const (
	MaxQuorumApprovals = 16
	MaxQuorumDelay     = Duration(90 * 24 * time.Hour)
)

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// Bootstrap reports whether the first principals are created on first start.
func (c Ceremony) Bootstrap() bool { return boolOr(c.BootstrapPrincipals, true) }

// AcceptAdminToken reports whether the bootstrap admin token is accepted.
func (c Ceremony) AcceptAdminToken() bool { return boolOr(c.AdminToken, false) }

// PlatformPlaybackNeedsQuorum reports whether platform-key recordings need
// a quorum to be played back or exported.
func (c Ceremony) PlatformPlaybackNeedsQuorum() bool { return boolOr(c.PlatformPlaybackQuorum, true) }

// Sweep is the interval of the approval sweeper.
func (c Ceremony) Sweep() time.Duration {
	if c.SweepInterval == nil {
		return DefaultSweepInterval.D()
	}
	return c.SweepInterval.D()
}

func (c *Ceremony) applyDefaults() {
	// PlatformPlaybackQuorum stays nil when the file leaves it out: the
	// shared store's rule applies then (ceremony/controlplane/quorumstore.go).
	for _, p := range []**bool{&c.BootstrapPrincipals} {
		if *p == nil {
			t := true
			*p = &t
		}
	}
	if c.AdminToken == nil {
		f := false
		c.AdminToken = &f
	}
}

func (c *Ceremony) validate() error {
	if d := c.SweepInterval; d != nil && (*d < Duration(10*time.Millisecond) || *d > Duration(time.Hour)) {
		return &FieldError{"ceremony.sweepInterval", d.D(), "must be between 10ms and 1h"}
	}
	ops := make([]string, 0, len(c.Quorum))
	for op := range c.Quorum {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		r, f := c.Quorum[op], "ceremony.quorum."+op
		if !slices.Contains(CeremonyOperations, op) {
			return &FieldError{"ceremony.quorum", op, fmt.Sprintf("unknown operation; want one of %v", CeremonyOperations)}
		}
		switch {
		case r.Approvals < 0 || r.Approvals > MaxQuorumApprovals:
			return &FieldError{f + ".approvals", r.Approvals, fmt.Sprintf("must be 1-%d (0 keeps the default)", MaxQuorumApprovals)}
		case r.Of < 0 || r.Of > 1000:
			return &FieldError{f + ".of", r.Of, "must be 0-1000"}
		case r.Of != 0 && r.Approvals != 0 && r.Of < r.Approvals:
			return &FieldError{f + ".of", r.Of, fmt.Sprintf("must be at least approvals (%d)", r.Approvals)}
		case r.Delay != nil && (*r.Delay < 0 || *r.Delay > MaxQuorumDelay):
			return &FieldError{f + ".delay", r.Delay.D(), "must be between 0s and 2160h"}
		}
		for i, role := range r.EligibleRoles {
			if !slices.Contains(CeremonyRoles, role) {
				return &FieldError{fmt.Sprintf("%s.eligibleRoles[%d]", f, i), role, fmt.Sprintf("unknown role; want one of %v", CeremonyRoles)}
			}
		}
	}
	return nil
}
