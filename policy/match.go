package policy

import (
	"fmt"
	"regexp"
	"sort"
	"time"
)

// Call is what the matcher knows about a call when its session starts.
type Call struct {
	QueueID   string
	Direction string
	CallerID  string
	At        time.Time
}

// Decision is the outcome of matching a call.
type Decision struct {
	// Record is false when no enabled policy applies or the best one says NONE.
	Record bool
	// Policy is the policy that decided (nil when none matched). It is a
	// copy: later changes to the set do not affect a running recording.
	Policy *Policy
	// Reason explains the decision for logs and the session response.
	Reason string
}

type compiled struct {
	p        Policy
	queues   map[string]bool
	global   bool
	callerRe *regexp.Regexp
	loc      *time.Location
	start    int // minutes since midnight
	end      int
	days     map[time.Weekday]bool
}

// Set is an immutable, validated collection of policies ready for matching.
type Set struct {
	policies []compiled
}

// NewSet validates and compiles policies. Policies without an ID get
// "policy-<index>".
func NewSet(policies []Policy) (*Set, error) {
	s := &Set{}
	seen := map[string]bool{}
	for i, p := range policies {
		p.Normalize()
		if p.ID == "" {
			p.ID = fmt.Sprintf("policy-%d", i+1)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("policies[%d] (%s): %w", i, p.ID, err)
		}
		if seen[p.ID] {
			return nil, fmt.Errorf("policies[%d]: %w", i, &FieldError{"id", p.ID, "duplicate policy id"})
		}
		seen[p.ID] = true
		c := compiled{p: p, global: p.IsGlobal(), queues: map[string]bool{}}
		for _, q := range p.TargetIDs {
			c.queues[q] = true
		}
		if pat := p.Conditions.CallerIDPattern; pat != nil {
			c.callerRe = regexp.MustCompile(*pat) // validated above
		}
		if w := p.Conditions.TimeWindow; w != nil {
			c.loc = time.UTC
			if w.Timezone != "" {
				c.loc, _ = time.LoadLocation(w.Timezone)
			}
			st, _ := time.Parse(clockFormat, w.Start)
			en, _ := time.Parse(clockFormat, w.End)
			c.start, c.end = st.Hour()*60+st.Minute(), en.Hour()*60+en.Minute()
			if len(w.Days) > 0 {
				c.days = map[time.Weekday]bool{}
				for _, d := range w.Days {
					c.days[weekdays[d]] = true
				}
			}
		}
		s.policies = append(s.policies, c)
	}
	return s, nil
}

// Policies returns copies of the policies in the set.
func (s *Set) Policies() []Policy {
	out := make([]Policy, len(s.policies))
	for i := range s.policies {
		out[i] = s.policies[i].p
	}
	return out
}

// specificity ranks a matching policy: an explicit queue beats a wildcard,
// and each condition that narrows the match adds to the rank.
func (c *compiled) specificity() int {
	n := 0
	if !c.global {
		n += 8
	}
	if c.p.Conditions.Direction != "" {
		n += 4
	}
	if c.callerRe != nil {
		n += 2
	}
	if c.loc != nil {
		n++
	}
	return n
}

func (c *compiled) matches(call Call) bool {
	if c.p.Status != StatusEnabled {
		return false
	}
	if !c.global && !c.queues[call.QueueID] {
		return false
	}
	if d := c.p.Conditions.Direction; d != "" && d != call.Direction {
		return false
	}
	if c.callerRe != nil && !c.callerRe.MatchString(call.CallerID) {
		return false
	}
	if c.loc != nil {
		t := call.At.In(c.loc)
		if c.days != nil && !c.days[t.Weekday()] {
			return false
		}
		m := t.Hour()*60 + t.Minute()
		if c.start <= c.end {
			if m < c.start || m >= c.end {
				return false
			}
		} else if m < c.start && m >= c.end { // window spans midnight
			return false
		}
	}
	return true
}

// Match picks the most specific enabled policy that applies to call. Ties
// are broken by policy id so the outcome never depends on load order.
func (s *Set) Match(call Call) Decision {
	var cands []*compiled
	for i := range s.policies {
		if s.policies[i].matches(call) {
			cands = append(cands, &s.policies[i])
		}
	}
	if len(cands) == 0 {
		return Decision{Reason: "no enabled policy matches queue " + call.QueueID}
	}
	sort.Slice(cands, func(i, j int) bool { return before(cands[i], cands[j]) })
	p := cands[0].p
	p.TargetIDs = append([]string(nil), p.TargetIDs...)
	if p.EncryptionKeyReference != nil {
		ref := *p.EncryptionKeyReference
		p.EncryptionKeyReference = &ref
	}
	if p.RecordingType == RecordingNone {
		return Decision{Policy: &p, Reason: "policy " + p.ID + " says NONE"}
	}
	return Decision{Record: true, Policy: &p, Reason: "policy " + p.ID}
}
