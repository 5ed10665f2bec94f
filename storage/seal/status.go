package seal

// Status says how a seal object ends.
type Status int

const (
	// StatusUnknown is the zero Status: nothing established yet.
	StatusUnknown Status = iota
	// StatusComplete: a writer's final chunk closes the object.
	StatusComplete
	// StatusTruncated: the object ends without a final chunk; only its
	// verified prefix was read.
	StatusTruncated
	// StatusRecovered: a recovered-final chunk appended by Recover closes
	// the object; media after the last chunk sealed before the crash is lost.
	StatusRecovered
)

func (s Status) String() string {
	switch s {
	case StatusComplete:
		return "COMPLETE"
	case StatusTruncated:
		return "TRUNCATED"
	case StatusRecovered:
		return "RECOVERED"
	}
	return "UNKNOWN"
}

// Summary is the result of verifying a whole object.
type Summary struct {
	Status     Status
	Chunks     int64 // verified chunks, the final one included
	Records    int64
	PlainBytes int64 // encoded record bytes, before compression
	// TornBytes is what Recover cut off after the verified prefix.
	TornBytes int64
}
