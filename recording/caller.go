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
	e, ok := e164(num, strings.ToUpper(region))
	if !ok {
		return s
	}
	// The E.164 form must read back as itself: for some inputs the parser
	// drops a national prefix once more on a second reading ("+640010011"
	// becomes "+64010011", then "+6410011"), and a search by the number
	// the index shows would then miss it. Such a number is kept as given.
	if again, ok := e164(e, "ZZ"); !ok || again != e {
		return s
	}
	return e
}

// e164 parses num in region and formats it as E.164 when it is a
// possible number.
func e164(num, region string) (string, bool) {
	n, err := phonenumbers.Parse(num, region)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}
