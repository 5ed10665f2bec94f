package policy

import (
	"encoding/json"
	"time"
)

// MaxRetentionDays bounds retentionDays: a century is longer than any
// recording regulation asks for, and the bound keeps the retain-until
// date far from time.Time's overflow.
const MaxRetentionDays = 36500

// RetainUntil is the retain-until of a recording created at createdAt
// under p: the policy's retentionDays, else orgDefaultDays. It is fixed
// at creation (the index stores it and S3 object lock enforces it), so a
// later policy edit cannot shorten a recording already made. The zero
// time means no retention was configured at either level.
func (p *Policy) RetainUntil(createdAt time.Time, orgDefaultDays int) time.Time {
	days := orgDefaultDays
	if p != nil && p.RetentionDays > 0 {
		days = p.RetentionDays
	}
	if days <= 0 {
		return time.Time{}
	}
	if days > MaxRetentionDays {
		days = MaxRetentionDays
	}
	return createdAt.UTC().AddDate(0, 0, days)
}

// keptDays is how long a call p decides is kept: -1 when p records
// nothing, MaxRetentionDays+1 for "no retention" (kept until deleted by
// hand), else the days of p or the organisation default.
func keptDays(p *Policy, orgDefaultDays int) int {
	if p.RecordingType == RecordingNone {
		return -1
	}
	days := orgDefaultDays
	if p.RetentionDays > 0 {
		days = p.RetentionDays
	}
	if days <= 0 || days > MaxRetentionDays {
		return MaxRetentionDays + 1
	}
	return days
}

// RetentionEffect lists the queues (OtherQueue for the unnamed ones) where
// going from set a to set b may keep some call's recording for less time
// than before: the queue's possible deciders changed and one of b's keeps
// recordings shorter than the longest of a's. It is conservative where
// conditions split a queue's calls (a shorter decider anywhere in a
// changed chain counts): shortening retention deletes recordings of calls
// still to come, which one policy writer must not decide alone.
func RetentionEffect(a, b *Set, orgDefaultDays int) []string {
	var out []string
	sig := func(ds []*Policy) string {
		s, _ := json.Marshal(func() []any {
			v := make([]any, 0, len(ds))
			for _, p := range ds {
				v = append(v, []any{p.Conditions, keptDays(p, orgDefaultDays)})
			}
			return v
		}())
		return string(s)
	}
	for _, q := range Queues(a, b) {
		da, _ := a.PossibleDeciders(q)
		db, _ := b.PossibleDeciders(q)
		if sig(da) == sig(db) {
			continue
		}
		longest := -1
		for _, p := range da {
			longest = max(longest, keptDays(p, orgDefaultDays))
		}
		for _, p := range db {
			if k := keptDays(p, orgDefaultDays); k >= 0 && k < longest {
				out = append(out, q)
				break
			}
		}
	}
	return out
}
