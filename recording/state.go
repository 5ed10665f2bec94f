package recording

import "fmt"

// State is where a recording is in its life cycle.
type State string

// States. SEALED, RECOVERED and TRUNCATED are closed spool files waiting
// for upload; UPLOADED is confirmed in the object store (size and SHA-256
// read back) and INDEXED has its final row written, its spool copy gone.
const (
	Active      State = "ACTIVE"
	Sealed      State = "SEALED"
	WriteFailed State = "WRITE_FAILED" // final chunk not written: left open for recovery in place
	Recovered   State = "RECOVERED"    // closed by recovery with a recovered-final chunk
	Truncated   State = "TRUNCATED"    // closed by recovery, its torn tail cut
	Uploaded    State = "UPLOADED"
	Indexed     State = "INDEXED"
	Failed      State = "FAILED" // no key (fail closed) or not finalised: nothing to upload
)

// next lists the legal transitions. A recording found open at start is
// ACTIVE (its process died); recovery closes it.
var next = map[State][]State{
	Active:      {Sealed, WriteFailed, Recovered, Truncated, Failed},
	WriteFailed: {Recovered, Truncated},
	Sealed:      {Uploaded},
	Recovered:   {Uploaded},
	Truncated:   {Uploaded},
	Uploaded:    {Indexed},
}

// CanMove reports whether from → to is a legal transition.
func CanMove(from, to State) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// move returns to, or an error wrapping ErrTransition when from → to is
// not a legal transition.
func move(from, to State) (State, error) {
	if !CanMove(from, to) {
		return from, fmt.Errorf("%w: %s → %s", ErrTransition, from, to)
	}
	return to, nil
}
