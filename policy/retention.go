package policy

import "time"

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
