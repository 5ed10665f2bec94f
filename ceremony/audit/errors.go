package audit

import "errors"

// Errors of the audit log.
var (
	// ErrBroken means verification found a changed, removed or reordered
	// entry or a checkpoint that does not match; the error names it.
	ErrBroken = errors.New("audit: chain broken")
	// ErrNoSigner means a checkpoint was asked of a log without a key.
	ErrNoSigner = errors.New("audit: no audit signing key")
	// ErrAnchor means a signed head could not be published to the anchor;
	// the log retries it.
	ErrAnchor = errors.New("audit: head not anchored")
)
