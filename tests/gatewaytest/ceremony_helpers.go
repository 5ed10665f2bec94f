package gatewaytest

import (
	"time"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
)

// ApprovalsWithDelay is the default quorum with every delayed operation
// delayed by d instead.
func ApprovalsWithDelay(d time.Duration) approvals.Config {
	rules := approvals.DefaultRules()
	for op, r := range rules {
		if r.Delay > 0 {
			r.Delay = d
			rules[op] = r
		}
	}
	return approvals.Config{Rules: rules}
}
