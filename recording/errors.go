package recording

import "errors"

var (
	// ErrTransition means a recording was asked to move to a state that
	// does not follow its current one (e.g. INDEXED before UPLOADED).
	ErrTransition = errors.New("recording: illegal transition")
	// ErrNotFound is what an Index returns for an id it does not hold.
	ErrNotFound = errors.New("recording: not in the index")
	// ErrRejected is what an Index returns for a write it refuses for
	// good (a conflict with the row's state, an invalid value).
	ErrRejected = errors.New("recording: index refused the write")
	// ErrIndexBehind means the index writer's queue is full (the store is
	// down or slow): new recordings are refused rather than left unindexed.
	ErrIndexBehind = errors.New("recording: index writes behind")
)
