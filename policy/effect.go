package policy

import (
	"encoding/json"
	"slices"
	"sort"
)

// Outcome is what a call gets from the policy that decides it, as far as
// the customer key is concerned.
type Outcome struct {
	Record bool
	// RecordingType is set for customer-key outcomes only.
	RecordingType string
	// CustomerKey is the registry id of the customer key ("" for the
	// platform key or no recording).
	CustomerKey string
	// FailClosed is the failure mode of a customer-key outcome.
	FailClosed bool
}

// IsCustomer reports whether the outcome records under a customer key.
func (o Outcome) IsCustomer() bool { return o.CustomerKey != "" }

// OutcomeOf is the outcome of p deciding a call, with its key resolved. A
// reference that does not resolve is unavailable, so onKeyUnavailable
// decides (the gateway's key source does the same). A customer key that
// resolves counts as that customer key even while it is unbound or
// disabled: the queue stays under it (FAIL_CLOSED keeps it off the
// platform key), so moving the queue off it still needs the quorum.
func OutcomeOf(p *Policy, key ResolvedKey, keyErr error) Outcome {
	if p == nil || p.RecordingType == RecordingNone {
		return Outcome{}
	}
	if keyErr != nil {
		if p.OnKeyUnavailable == OnKeyUnavailableFailClosed {
			return Outcome{}
		}
		return Outcome{Record: true}
	}
	if key.Platform {
		return Outcome{Record: true}
	}
	return Outcome{Record: true, RecordingType: p.RecordingType, CustomerKey: key.KeyID,
		FailClosed: p.OnKeyUnavailable == OnKeyUnavailableFailClosed}
}

// OtherQueue stands for every queue no policy names (only wildcard
// policies match it); it is not a valid queue id, so it never collides.
const OtherQueue = "\x00other"

// Queues lists every queue any of the sets names, plus OtherQueue.
func Queues(sets ...*Set) []string {
	seen := map[string]bool{OtherQueue: true}
	out := []string{OtherQueue}
	for _, s := range sets {
		for i := range s.policies {
			for q := range s.policies[i].queues {
				if q != Wildcard && !seen[q] {
					seen[q] = true
					out = append(out, q)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// PossibleDeciders lists every policy that may decide some call on queue,
// in Match's order, and whether a call may also match none. Conditions
// (direction, caller id, time window) are taken as "may match": a policy
// with any is a candidate and does not hide those after it; the first
// candidate without conditions always matches, so none after it can decide.
func (s *Set) PossibleDeciders(queue string) (deciders []*Policy, mayMatchNone bool) {
	var cands []*compiled
	for i := range s.policies {
		c := &s.policies[i]
		if c.p.Status == StatusEnabled && (c.global || c.queues[queue]) {
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return before(cands[i], cands[j]) })
	for _, c := range cands {
		p := c.p
		deciders = append(deciders, &p)
		if !c.conditional() {
			return deciders, false
		}
	}
	return deciders, true
}

// conditional reports whether the policy narrows its queues' calls.
func (c *compiled) conditional() bool {
	return c.p.Conditions.Direction != "" || c.callerRe != nil || c.loc != nil
}

// before is Match's order: most specific first, then by policy id.
func before(a, b *compiled) bool {
	sa, sb := a.specificity(), b.specificity()
	if sa != sb {
		return sa > sb
	}
	return a.p.ID < b.p.ID
}

// decider is one possible decider of a queue's calls as far as its
// effect goes: the calls it takes (conditions) and what they get.
type decider struct {
	conditions string
	outcome    Outcome
}

// deciderChain is what decides every call on queue: the possible deciders
// in Match's order, and whether a call may match none. Two equal chains
// give every call the same outcome (a call's decider is the first in the
// chain whose conditions match it).
func (s *Set) deciderChain(queue string, outcome func(*Policy) Outcome) (chain []decider, mayMatchNone bool) {
	ds, none := s.PossibleDeciders(queue)
	for _, p := range ds {
		c, _ := json.Marshal(p.Conditions) // plain data: cannot fail
		chain = append(chain, decider{conditions: string(c), outcome: outcome(p)})
	}
	return chain, none
}

// CustomerKeyEffect lists the queues (OtherQueue for the unnamed ones)
// where going from set a to set b may change some call's customer-key
// outcome: a queue whose chain of possible deciders changes (which calls
// they take or what those get) while either chain includes a customer key
// (on or off a customer key, another customer key, failure mode or
// recording type). A queue no customer key can reach is not listed:
// platform-only changes need no quorum.
func CustomerKeyEffect(a, b *Set, outcome func(*Policy) Outcome) []string {
	var out []string
	for _, q := range Queues(a, b) {
		ca, na := a.deciderChain(q, outcome)
		cb, nb := b.deciderChain(q, outcome)
		if na == nb && slices.Equal(ca, cb) {
			continue
		}
		customer := func(d decider) bool { return d.outcome.IsCustomer() }
		if slices.ContainsFunc(ca, customer) || slices.ContainsFunc(cb, customer) {
			out = append(out, q)
		}
	}
	return out
}

// LiveSet is the set the gateway matches calls against: every policy that
// validates (skip is told of the others), compiled. The policy gate builds
// its before and after sets with it too, so both see the same set.
func LiveSet(ps []Policy, skip func(Policy, error)) (*Set, error) {
	live := make([]Policy, 0, len(ps))
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			if skip != nil {
				skip(p, err)
			}
			continue
		}
		live = append(live, p)
	}
	return NewSet(live)
}
