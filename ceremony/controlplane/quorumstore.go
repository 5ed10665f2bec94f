package controlplane

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// syncQuorumRules makes the shared store the one source of the quorum
// rules. The first gateway to start on an empty store seeds them (from
// Config.SeedRules and PlatformPlayback: the config's ceremony.quorum
// overrides and platformPlaybackQuorum over the defaults, or test rules), audited; from then on a
// gateway whose config names a value that differs from the store is
// refused at start, naming the operation, the field and both values — so
// the gateway with the laxest file can no longer weaken the quorum of all
// the others. A config without a quorum section uses the store.
func (s *Service) syncQuorumRules(ctx context.Context) error {
	seed := maps.Clone(s.cfg.SeedRules)
	if seed == nil {
		seed = approvals.DefaultRules()
	}
	pb := seed[approvals.OpPlayback]
	pb.PlatformPlayback = s.cfg.PlatformPlayback
	seed[approvals.OpPlayback] = pb
	if _, ok := seed[approvals.OpQuorum]; !ok {
		seed[approvals.OpQuorum] = approvals.DefaultRules()[approvals.OpQuorum]
	}
	ops := make([]string, 0, len(seed))
	for op := range seed {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	rows := make([]store.QuorumRule, 0, len(ops))
	for _, op := range ops {
		r := seed[op]
		r.Of = max(r.Of, r.Approvals) // N defaults to M
		seed[op] = r
		if err := approvals.ValidateRule(op, r); err != nil {
			return fmt.Errorf("ceremony.quorum: %w", err)
		}
		rows = append(rows, approvals.ToStored(op, seed[op]))
	}
	by := "gateway " + s.cfg.GatewayID
	seeded, err := s.st.SeedQuorumRules(ctx, rows, by)
	if err != nil {
		return err
	}
	if seeded {
		details := map[string]any{"gateway": s.cfg.GatewayID}
		for _, r := range rows {
			details[r.Operation] = map[string]any{"approvals": r.Approvals, "of": r.Of, "eligibleRoles": r.EligibleRoles,
				"delay": r.Delay.String(), "vetoers": r.Vetoers, "platformPlayback": r.PlatformPlayback}
		}
		if _, err := s.audit.Record(ctx, audit.Event{Actor: "system", Action: "ceremony.quorum.seeded",
			Target: "quorum_rules", Outcome: audit.OutcomeSuccess, Details: details}); err != nil {
			return fmt.Errorf("audit the seeded quorum rules: %w", err)
		}
		s.log.Info("seeded the quorum rules into the shared store; from now on they change only by a ceremony.quorum proposal")
	} else if err := s.addNewQuorumRules(ctx, rows, by); err != nil {
		return err
	}
	stored, err := s.st.ListQuorumRules(ctx)
	if err != nil {
		return err
	}
	if err := s.configAgrees(stored); err != nil {
		if _, aerr := s.audit.Record(ctx, audit.Event{Actor: "system", Action: "ceremony.quorum.config_refused",
			Target: "gateway " + s.cfg.GatewayID, Outcome: audit.OutcomeRefused, Details: map[string]any{"reason": err.Error()}}); aerr != nil {
			s.log.Error("audit: cannot record the refused config", zap.Error(aerr))
		}
		return err
	}
	return nil
}

// configAgrees compares every quorum value the config names with the
// stored rules.
func (s *Service) configAgrees(stored []store.QuorumRule) error {
	byOp := map[string]store.QuorumRule{}
	for _, r := range stored {
		byOp[r.Operation] = r
	}
	for op := range approvals.DefaultRules() {
		if _, ok := byOp[op]; !ok {
			return fmt.Errorf("ceremony: the shared store has quorum rules but none for %s: refusing to start (restore it from a backup)", op)
		}
	}
	differs := func(field string, cfg, st any) error {
		return fmt.Errorf("ceremony: the config's %s is %v but the shared store's rule is %v: quorum rules live in the store "+
			"(see GET /api/v2/ceremony/quorum) and change only with a ceremony.quorum approval (PUT /api/v2/ceremony/quorum/{operation}); "+
			"remove the setting from the config or make it equal the store", field, cfg, st)
	}
	if p := s.cfg.PlatformPlaybackQuorum; p != nil && *p != byOp[approvals.OpPlayback].PlatformPlayback {
		return differs("ceremony.platformPlaybackQuorum", *p, byOp[approvals.OpPlayback].PlatformPlayback)
	}
	ops := make([]string, 0, len(s.cfg.Quorum))
	for op := range s.cfg.Quorum {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		o, st, f := s.cfg.Quorum[op], byOp[op], "ceremony.quorum."+op
		switch {
		case o.Approvals != 0 && o.Approvals != st.Approvals:
			return differs(f+".approvals", o.Approvals, st.Approvals)
		case o.Of != 0 && o.Of != st.Of:
			return differs(f+".of", o.Of, st.Of)
		case len(o.EligibleRoles) > 0 && !sameSet(o.EligibleRoles, st.EligibleRoles):
			return differs(f+".eligibleRoles", o.EligibleRoles, st.EligibleRoles)
		case o.Delay != nil && *o.Delay != st.Delay:
			return differs(f+".delay", *o.Delay, st.Delay)
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// PlatformPlaybackNeedsQuorum reads from the shared store whether
// platform-key recordings need the playback quorum (operator tools such
// as the offline export; the API reads it per request). A config that
// disagrees with the store is refused as at start; a store with no rules
// yet, or one that cannot be read, means yes.
func (s *Service) PlatformPlaybackNeedsQuorum(ctx context.Context) (bool, error) {
	stored, err := s.st.ListQuorumRules(ctx)
	if err != nil {
		return true, err
	}
	if len(stored) == 0 {
		return true, nil
	}
	if err := s.configAgrees(stored); err != nil {
		return true, err
	}
	for _, r := range stored {
		if r.Operation == approvals.OpPlayback {
			return r.PlatformPlayback, nil
		}
	}
	return true, nil
}

// addNewQuorumRules gives a store seeded by an older gateway the rules of
// operations introduced since (their seed values), audited; without them
// every proposal would be refused, as the quorum fails closed on a
// missing rule.
func (s *Service) addNewQuorumRules(ctx context.Context, rows []store.QuorumRule, by string) error {
	added, err := s.st.AddQuorumRules(ctx, rows, by)
	if err != nil || len(added) == 0 {
		return err
	}
	details := map[string]any{"gateway": s.cfg.GatewayID}
	for _, r := range rows {
		if slices.Contains(added, r.Operation) {
			details[r.Operation] = map[string]any{"approvals": r.Approvals, "of": r.Of, "eligibleRoles": r.EligibleRoles,
				"delay": r.Delay.String(), "vetoers": r.Vetoers}
		}
	}
	if _, err := s.audit.Record(ctx, audit.Event{Actor: "system", Action: "ceremony.quorum.added",
		Target: "quorum_rules", Outcome: audit.OutcomeSuccess, Details: details}); err != nil {
		return fmt.Errorf("audit the added quorum rules: %w", err)
	}
	s.log.Info("added the quorum rules of new operations to the shared store", zap.Strings("operations", added))
	return nil
}
