package approvals

import (
	"time"

	"github.com/mediaseal/mediaseal/ceremony/auth"
)

// Operations that need a quorum.
const (
	OpKeyBind    = "key.bind"              // POST /api/v2/keys/{keyId}
	OpPolicyKey  = "policy.encryption_key" // a policy's encryptionKeyReference
	OpKeyDisable = "key.disable"           // POST /api/v2/keys/{keyId}/disable
	OpKeyDelete  = "key.delete"            // POST /api/v2/keys/{keyId}/deletion
	OpPlayback   = "recording.playback"    // GET /api/v2/recordings/{id}/media
	// OpLegalHoldRelease ends a legal hold: its recordings may be deleted
	// again (POST /api/v2/legal-holds/{id}/release).
	OpLegalHoldRelease = "legal_hold.release"
	// OpPolicyRetention is a policy write that may keep some queue's
	// future recordings for less time than before (policy.RetentionEffect).
	OpPolicyRetention = "policy.retention"
	// OpQuorum changes the stored rule of the operation it targets
	// (PUT /api/v2/ceremony/quorum/{operation}); its own rule is the
	// strictest the store holds (StrictestRule).
	OpQuorum = "ceremony.quorum"
)

// Defaults.
const (
	DefaultExpiry       = 24 * time.Hour
	DefaultWindow       = 10 * time.Minute
	DefaultDeleteDelay  = 7 * 24 * time.Hour
	DefaultDisableDelay = 24 * time.Hour
	DefaultLease        = 15 * time.Minute
	DefaultRetryFor     = 24 * time.Hour
	DefaultRetryBackoff = 30 * time.Second
	MaxRetryBackoff     = time.Hour
)

// Rule is the quorum of one operation.
type Rule struct {
	// Approvals is M: distinct approvals needed (never the proposer).
	Approvals int
	// Of is N: at least this many eligible principals besides the proposer
	// must exist when proposing (default M).
	Of int
	// Eligible are the roles whose holders may approve.
	Eligible []string
	// ProposeScope is the scope the proposer needs for the operation itself.
	ProposeScope string
	// Delay is how long an approved operation waits (and can be vetoed)
	// before it runs. With a delay the approved operation is SCHEDULED and
	// the gateway executes it itself; without one its proposer executes it
	// within the window.
	Delay time.Duration
	// Vetoers are the roles whose holders may veto during the delay.
	Vetoers []string
	// PlatformPlayback (recording.playback only) makes playback and
	// export of platform-key recordings need the quorum too.
	PlatformPlayback bool
}

// DefaultRules are the quorums of the embedded default.
func DefaultRules() map[string]Rule {
	vetoers := []string{auth.RoleKeyAdmin, auth.RoleAuditor}
	return map[string]Rule{
		OpKeyBind: {Approvals: 1, Eligible: []string{auth.RoleKeyAdmin}, ProposeScope: auth.ScopeKeyWrite, Vetoers: vetoers},
		OpPolicyKey: {Approvals: 1, Eligible: []string{auth.RoleKeyAdmin},
			ProposeScope: auth.ScopePolicyWrite, Vetoers: vetoers},
		OpKeyDisable: {Approvals: 1, Eligible: []string{auth.RoleKeyAdmin}, ProposeScope: auth.ScopeKeyWrite,
			Delay: DefaultDisableDelay, Vetoers: vetoers},
		OpKeyDelete: {Approvals: 1, Eligible: []string{auth.RoleKeyAdmin}, ProposeScope: auth.ScopeKeyWrite,
			Delay: DefaultDeleteDelay, Vetoers: vetoers},
		OpPlayback: {Approvals: 2, Eligible: []string{auth.RoleKeyAdmin, auth.RolePolicyAdmin, auth.RoleApprover},
			ProposeScope: auth.ScopePlayback, Vetoers: vetoers, PlatformPlayback: true},
		OpPolicyRetention: {Approvals: 1, Eligible: []string{auth.RoleLegalOfficer, auth.RoleKeyAdmin},
			ProposeScope: auth.ScopePolicyWrite, Vetoers: vetoers},
		OpLegalHoldRelease: {Approvals: 1, Eligible: []string{auth.RoleLegalOfficer, auth.RoleKeyAdmin},
			ProposeScope: auth.ScopeLegalHold, Vetoers: vetoers},
		OpQuorum: {Approvals: 2, Eligible: []string{auth.RoleKeyAdmin, auth.RolePolicyAdmin},
			ProposeScope: auth.ScopeKeyWrite, Vetoers: vetoers},
	}
}
