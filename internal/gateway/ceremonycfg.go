package gateway

import (
	"maps"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/internal/config"
)

// quorumRules are the default quorum rules with the config's per-operation
// overrides applied (fields left out keep the default).
func quorumRules(cfg config.Ceremony) map[string]approvals.Rule {
	rules := approvals.DefaultRules()
	for op, o := range maps.All(cfg.Quorum) {
		r, ok := rules[op]
		if !ok { // config validation knows the same operations
			continue
		}
		if o.Approvals > 0 {
			r.Approvals = o.Approvals
		}
		if o.Of > 0 {
			r.Of = o.Of
		}
		if len(o.EligibleRoles) > 0 {
			r.Eligible = append([]string(nil), o.EligibleRoles...)
		}
		if o.Delay != nil {
			r.Delay = o.Delay.D()
		}
		rules[op] = r
	}
	return rules
}

// approvalsConfig is the quorum's configuration: expiry and windows from
// WithApprovals when given (tests); the rules always from the shared
// store (syncQuorumRules seeded it from WithApprovals or the config).
func (g *Gateway) approvalsConfig() approvals.Config {
	c := g.cer.approvalsCfg
	c.Rules, c.Store = nil, g.index
	return c
}
