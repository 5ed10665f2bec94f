package policy

import (
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

// OutcomeOf is the outcome of p deciding a call, with its key resolved: a
// key that does not resolve or is not usable is unavailable, so
// onKeyUnavailable decides (the gateway's key source does the same).
func OutcomeOf(p *Policy, key ResolvedKey, keyErr error) Outcome {
	if p == nil || p.RecordingType == RecordingNone {
		return Outcome{}
	}
	if keyErr != nil || (!key.Platform && !key.Usable) {
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

// PossibleOutcomes is the sorted set of outcomes calls on queue may get.
func (s *Set) PossibleOutcomes(queue string, outcome func(*Policy) Outcome) []Outcome {
	ds, none := s.PossibleDeciders(queue)
	var out []Outcome
	add := func(o Outcome) {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, p := range ds {
		add(outcome(p))
	}
	if none {
		add(Outcome{})
	}
	sort.Slice(out, func(i, j int) bool { return outcomeLess(out[i], out[j]) })
	return out
}

func outcomeLess(a, b Outcome) bool {
	switch {
	case a.Record != b.Record:
		return !a.Record
	case a.CustomerKey != b.CustomerKey:
		return a.CustomerKey < b.CustomerKey
	case a.RecordingType != b.RecordingType:
		return a.RecordingType < b.RecordingType
	}
	return !a.FailClosed && b.FailClosed
}

// CustomerKeyEffect lists the queues (OtherQueue for the unnamed ones)
// where going from set a to set b may change a call's customer-key
// outcome: a queue whose possible outcomes differ while either side
// includes a customer key (on or off a customer key, another customer
// key, another failure mode or recording type). Changes among platform and
// no-recording outcomes only are not listed.
func CustomerKeyEffect(a, b *Set, outcome func(*Policy) Outcome) []string {
	var out []string
	for _, q := range Queues(a, b) {
		oa, ob := a.PossibleOutcomes(q, outcome), b.PossibleOutcomes(q, outcome)
		if slices.Equal(oa, ob) {
			continue
		}
		if slices.ContainsFunc(oa, Outcome.IsCustomer) || slices.ContainsFunc(ob, Outcome.IsCustomer) {
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
