package approvals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// RuleRepository is where the rules live when they are shared by every
// gateway on a database; *store.SQL implements it.
type RuleRepository interface {
	ListQuorumRules(ctx context.Context) ([]store.QuorumRule, error)
	UpdateQuorumRule(ctx context.Context, r store.QuorumRule) (store.QuorumRule, error)
}

var _ RuleRepository = (*store.SQL)(nil)

// Rule bounds of a ceremony.quorum change.
const (
	MaxApprovals = 16
	MaxOf        = 1000
	MaxDelay     = 90 * 24 * time.Hour
)

// scheduledOps are the operations the gateway executes itself after a
// delay; every other operation is executed by its proposer and cannot
// have one.
var scheduledOps = []string{OpKeyDisable, OpKeyDelete}

// ErrRulesUnavailable means the stored rules cannot be read or are
// incomplete: every quorum operation is refused until they can.
var ErrRulesUnavailable = errors.New("approvals: quorum rules unavailable")

// rules are the rules in force: read from the store at every use when
// the service has one (so a change made through any gateway applies to
// the very next proposal, approval, veto or execution everywhere; the
// read is one small query and these are rare), else Config.Rules.
func (s *Service) rules(ctx context.Context) (map[string]Rule, error) {
	if s.cfg.Store == nil {
		return s.cfg.Rules, nil
	}
	stored, err := s.cfg.Store.ListQuorumRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRulesUnavailable, err)
	}
	out := make(map[string]Rule, len(stored))
	for _, r := range stored {
		out[r.Operation] = FromStored(r)
	}
	for op := range DefaultRules() {
		if _, ok := out[op]; !ok { // fail closed: never fall back to a default
			return nil, fmt.Errorf("%w: the store has no rule for %s", ErrRulesUnavailable, op)
		}
	}
	return out, nil
}

// Rules returns the rules in force (see rules), ceremony.quorum as it
// applies: the strictest.
func (s *Service) Rules(ctx context.Context) (map[string]Rule, error) {
	rs, err := s.rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Rule, len(rs))
	for op, r := range rs {
		out[op] = r
	}
	out[OpQuorum] = StrictestRule(rs)
	return out, nil
}

// ruleFor is the rule an operation is proposed, approved and executed
// under.
func ruleFor(rules map[string]Rule, op string) (Rule, bool) {
	if op == OpQuorum {
		if _, ok := rules[OpQuorum]; !ok {
			return Rule{}, false
		}
		return StrictestRule(rules), true
	}
	r, ok := rules[op]
	return r, ok
}

// StrictestRule is the rule of a ceremony.quorum change: as many
// approvals (M and N) as the most demanding rule the store holds,
// ceremony.quorum's own included, so no change — of any rule, its own
// too — can be made with fewer approvals than the rule it changes needs
// now, and lowering a rule always takes the higher count. Eligible roles
// and vetoers are ceremony.quorum's own; it never has a delay.
func StrictestRule(rules map[string]Rule) Rule {
	own := rules[OpQuorum]
	r := Rule{Approvals: own.Approvals, Of: max(own.Of, own.Approvals), Eligible: own.Eligible,
		ProposeScope: auth.ScopeKeyWrite, Vetoers: own.Vetoers}
	for _, o := range rules {
		r.Approvals = max(r.Approvals, o.Approvals)
		r.Of = max(r.Of, o.Of, o.Approvals)
	}
	return r
}

// FromStored is the rule of a stored row; the proposer's scope is fixed
// per operation, never stored.
func FromStored(r store.QuorumRule) Rule {
	return Rule{Approvals: r.Approvals, Of: r.Of, Eligible: r.EligibleRoles, ProposeScope: DefaultRules()[r.Operation].ProposeScope,
		Delay: r.Delay, Vetoers: r.Vetoers, PlatformPlayback: r.PlatformPlayback}
}

// ToStored is the row of a rule.
func ToStored(op string, r Rule) store.QuorumRule {
	return store.QuorumRule{Operation: op, Approvals: r.Approvals, Of: max(r.Of, r.Approvals),
		EligibleRoles: sorted(r.Eligible), Delay: r.Delay, Vetoers: sorted(r.Vetoers), PlatformPlayback: r.PlatformPlayback}
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// RuleChange is the body of PUT /api/v2/ceremony/quorum/{operation} and
// the parameters of its ceremony.quorum proposal: the whole new rule,
// every field given.
type RuleChange struct {
	Approvals        int      `json:"approvals"`
	Of               int      `json:"of"`
	EligibleRoles    []string `json:"eligibleRoles"`
	Delay            string   `json:"delay"`
	Vetoers          []string `json:"vetoers"`
	PlatformPlayback *bool    `json:"platformPlayback,omitempty"`
}

// ParseRuleChange decodes the parameters of a rule change for op
// strictly (exact field names, each once, valid UTF-8, nothing after)
// and checks them against the floors (ValidateRule).
func ParseRuleChange(op string, params []byte) (Rule, error) {
	if !utf8.Valid(params) {
		return Rule{}, fmt.Errorf("%w: parameters are not valid UTF-8", ErrInvalid)
	}
	var fields map[string]json.RawMessage
	if err := strictObject(params, &fields); err != nil {
		return Rule{}, err
	}
	want := []string{"approvals", "of", "eligibleRoles", "delay", "vetoers"}
	if op == OpPlayback {
		want = append(want, "platformPlayback")
	}
	for k := range fields {
		if !slices.Contains(want, k) {
			return Rule{}, fmt.Errorf("%w: unknown parameter %q for %s (want exactly %v)", ErrInvalid, k, op, want)
		}
	}
	for _, k := range want {
		if _, ok := fields[k]; !ok {
			return Rule{}, fmt.Errorf("%w: parameter %q is required: a rule change names the whole rule %v", ErrInvalid, k, want)
		}
	}
	var c RuleChange
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Rule{}, fmt.Errorf("%w: parameters: %v", ErrInvalid, err)
	}
	d, err := time.ParseDuration(c.Delay)
	if err != nil {
		return Rule{}, fmt.Errorf("%w: delay %q: want a duration such as 0s or 24h", ErrInvalid, c.Delay)
	}
	r := Rule{Approvals: c.Approvals, Of: c.Of, Eligible: sorted(c.EligibleRoles), Delay: d, Vetoers: sorted(c.Vetoers),
		ProposeScope: DefaultRules()[op].ProposeScope}
	if c.PlatformPlayback != nil {
		r.PlatformPlayback = *c.PlatformPlayback
	}
	if op == OpQuorum {
		r.ProposeScope = auth.ScopeKeyWrite
	}
	return r, ValidateRule(op, r)
}

// strictObject decodes one JSON object into fields, refusing a key given
// twice and any data after the object.
func strictObject(b []byte, fields *map[string]json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: parameters must be a JSON object", ErrInvalid)
	}
	*fields = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: parameters: %v", ErrInvalid, err)
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%w: parameters: %v", ErrInvalid, err)
		}
		if _, dup := (*fields)[k]; dup {
			return fmt.Errorf("%w: parameter %q is given twice", ErrInvalid, k)
		}
		(*fields)[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: parameters: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err == nil {
		return fmt.Errorf("%w: data after the parameters object", ErrInvalid)
	}
	return nil
}

// ValidateRule checks a rule against the floors no change may go below:
// at least one approval besides the proposer (playback of a customer-key
// recording can never be approved by its requester alone), N ≥ M,
// approvers and vetoers that hold the scope to approve or veto, and a
// delay only on the operations the gateway executes itself.
func ValidateRule(op string, r Rule) error {
	if _, ok := DefaultRules()[op]; !ok {
		return fmt.Errorf("%w: unknown operation %q", ErrInvalid, op)
	}
	switch {
	case r.Approvals < 1 || r.Approvals > MaxApprovals:
		return fmt.Errorf("%w: %s approvals must be 1-%d (got %d): no operation runs without another principal's approval", ErrInvalid, op, MaxApprovals, r.Approvals)
	case r.Of < r.Approvals || r.Of > MaxOf:
		return fmt.Errorf("%w: %s of must be between approvals (%d) and %d (got %d)", ErrInvalid, op, r.Approvals, MaxOf, r.Of)
	case r.Delay < 0 || r.Delay > MaxDelay:
		return fmt.Errorf("%w: %s delay must be 0s-%s (got %s)", ErrInvalid, op, MaxDelay, r.Delay)
	case r.Delay > 0 && !slices.Contains(scheduledOps, op):
		return fmt.Errorf("%w: %s cannot have a delay (got %s): only %v wait and are executed by the gateway", ErrInvalid, op, r.Delay, scheduledOps)
	case r.PlatformPlayback && op != OpPlayback:
		return fmt.Errorf("%w: platformPlayback is a field of %s only", ErrInvalid, OpPlayback)
	case len(r.Eligible) == 0:
		return fmt.Errorf("%w: %s eligibleRoles is empty", ErrInvalid, op)
	case len(r.Vetoers) == 0:
		return fmt.Errorf("%w: %s vetoers is empty", ErrInvalid, op)
	}
	if err := rolesWith(op, "eligibleRoles", r.Eligible, auth.ScopeApprovalsApprove); err != nil {
		return err
	}
	return rolesWith(op, "vetoers", r.Vetoers, auth.ScopeApprovalsVeto)
}

func rolesWith(op, field string, roles []string, scope string) error {
	for _, role := range roles {
		scopes, err := auth.ScopesOf([]string{role})
		if err != nil {
			return fmt.Errorf("%w: %s %s: %v", ErrInvalid, op, field, err)
		}
		if !slices.Contains(scopes, scope) {
			return fmt.Errorf("%w: %s %s: role %s does not hold %s", ErrInvalid, op, field, role, scope)
		}
	}
	return nil
}

// checkRuleChange refuses, when it is proposed, a ceremony.quorum change
// that is invalid or that no set of today's principals could ever meet
// again: after it, both the changed operation and further rule changes
// must still find enough eligible principals (no lock-out).
func (s *Service) checkRuleChange(ctx context.Context, rules map[string]Rule, who string, p Proposal) error {
	r, err := ParseRuleChange(p.Target, p.Parameters)
	if err != nil {
		return err
	}
	after := make(map[string]Rule, len(rules))
	for op, o := range rules {
		after[op] = o
	}
	after[p.Target] = r
	all, err := s.repo.ListPrincipals(ctx)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		op   string
		rule Rule
	}{{p.Target, r}, {OpQuorum, StrictestRule(after)}} {
		pool := 0
		for _, pr := range all {
			if pr.ID != who && !pr.Disabled && pr.Kind == store.PrincipalService && hasAnyRole(pr, c.rule.Eligible) {
				pool++
			}
		}
		if need := max(c.rule.Approvals, c.rule.Of); pool < need {
			return fmt.Errorf("%w: after this change %s would need %d approvers among %v, only %d exist besides %s",
				ErrQuorumImpossible, c.op, need, c.rule.Eligible, pool, who)
		}
	}
	return nil
}

// stillMet refuses to execute a proposal whose approvals no longer meet
// the rule in force now (it was raised after the proposal was made).
func stillMet(rules map[string]Rule, a store.Approval, votes []store.ApprovalVote) error {
	rule, ok := ruleFor(rules, a.Operation)
	if !ok {
		return fmt.Errorf("%w: no rule for %s", ErrRulesUnavailable, a.Operation)
	}
	n := 0
	for _, v := range votes {
		if hasAnyRoleOf(v.Roles, rule.Eligible) {
			n++
		}
	}
	if n < rule.Approvals {
		return fmt.Errorf("%w: the %s rule changed since %s was proposed: it now needs %d approvals among %v, %s has %d; propose again",
			ErrState, a.Operation, a.ID, rule.Approvals, rule.Eligible, a.ID, n)
	}
	return nil
}

func hasAnyRoleOf(have, want []string) bool {
	for _, r := range have {
		if slices.Contains(want, r) {
			return true
		}
	}
	return false
}

// ApplyRuleChange writes the rule a claimed ceremony.quorum proposal
// approved — decoded from the proposal itself, so the value the quorum
// approved is the value stored — if the rule has not changed since the
// proposal was made (then it is refused, ErrState: propose again).
func (s *Service) ApplyRuleChange(ctx context.Context, a store.Approval, by string) (store.QuorumRule, error) {
	if s.cfg.Store == nil {
		return store.QuorumRule{}, fmt.Errorf("%w: this gateway keeps no rules in a store", ErrRulesUnavailable)
	}
	if a.Operation != OpQuorum || a.Status != store.ApprovalExecuted {
		return store.QuorumRule{}, fmt.Errorf("%w: %s is %s %s, not an executed %s", ErrState, a.ID, a.Status, a.Operation, OpQuorum)
	}
	params, err := parametersOf(a.Canonical)
	if err != nil {
		return store.QuorumRule{}, err
	}
	r, err := ParseRuleChange(a.Target, params)
	if err != nil {
		return store.QuorumRule{}, err
	}
	stored, err := s.cfg.Store.ListQuorumRules(ctx)
	if err != nil {
		return store.QuorumRule{}, fmt.Errorf("%w: %v", ErrRulesUnavailable, err)
	}
	for _, cur := range stored {
		if cur.Operation != a.Target {
			continue
		}
		if cur.UpdatedAt.After(a.CreatedAt) {
			return store.QuorumRule{}, fmt.Errorf("%w: the %s rule changed at %s, after %s was proposed; propose again",
				ErrState, a.Target, cur.UpdatedAt.Format(time.RFC3339Nano), a.ID)
		}
		next := ToStored(a.Target, r)
		next.Version, next.UpdatedBy, next.ApprovalID = cur.Version, by, a.ID
		out, err := s.cfg.Store.UpdateQuorumRule(ctx, next)
		if errors.Is(err, store.ErrConflict) {
			err = fmt.Errorf("%w: %v", ErrState, err)
		}
		return out, err
	}
	return store.QuorumRule{}, fmt.Errorf("%w: the store has no rule for %s", ErrRulesUnavailable, a.Target)
}

// StoredRules returns the rows of the rule store (for display).
func (s *Service) StoredRules(ctx context.Context) ([]store.QuorumRule, error) {
	if s.cfg.Store == nil {
		out := []store.QuorumRule{}
		for op, r := range s.cfg.Rules {
			out = append(out, ToStored(op, r))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Operation < out[j].Operation })
		return out, nil
	}
	rs, err := s.cfg.Store.ListQuorumRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRulesUnavailable, err)
	}
	return rs, nil
}
