package recording

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// MaxCallerLen caps a caller number as the session API does.
const MaxCallerLen = 256

// NormalizeCaller returns the caller number as E.164 ("+441632960001") so
// that "+44 1632 960001", "01632 960001" (region GB) and "tel:+441632960001"
// index and search alike. region (ISO 3166 alpha-2, config org.callerRegion)
// reads national numbers; empty reads only international ones. What is not
// a valid phone number (a SIP user name, an anonymous caller) is kept as
// given, trimmed, so an exact search still finds it. The same function runs
// when the index is written and when it is searched: both sides agree.
func NormalizeCaller(raw, region string) string {
	s := strings.TrimSpace(raw)
	if s == "" || len(s) > MaxCallerLen {
		return s
	}
	num := strings.TrimPrefix(strings.TrimPrefix(s, "tel:"), "sip:")
	if i := strings.IndexAny(num, ";@"); i >= 0 {
		num = num[:i] // tel:+44...;ext=1, sip:+44...@host
	}
	if region == "" {
		region = "ZZ" // unknown region: only numbers with a leading + parse
	}
	n, err := phonenumbers.Parse(num, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return s
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}
