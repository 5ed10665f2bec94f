package store

import "github.com/google/uuid"

// NewID returns a new identifier: a UUIDv7 in its canonical text form.
// It is time-ordered (so ids sort roughly by creation) and carries 74 random
// bits per millisecond, so separate gateways never allocate the same id
// without coordination.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system random source fails, which
		// leaves nothing safe to do.
		panic("store: cannot read random source: " + err.Error())
	}
	return id.String()
}
