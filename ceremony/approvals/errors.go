package approvals

import "errors"

// Errors of the quorum; wrapped with the values concerned.
var (
	// ErrInvalid means a malformed proposal.
	ErrInvalid = errors.New("approvals: invalid proposal")
	// ErrNotEligible means the principal may not propose, approve or veto this.
	ErrNotEligible = errors.New("approvals: not eligible")
	// ErrSelfApproval means the proposer tried to approve.
	ErrSelfApproval = errors.New("approvals: the proposer cannot approve")
	// ErrDuplicateVote means the principal already approved.
	ErrDuplicateVote = errors.New("approvals: already approved by this principal")
	// ErrDigestMismatch means the approval names another proposal's digest.
	ErrDigestMismatch = errors.New("approvals: digest does not match the proposal")
	// ErrExpired means the proposal or its execution window has expired.
	ErrExpired = errors.New("approvals: expired")
	// ErrState means the proposal is not in a state that allows this
	// (already approved, executed, vetoed).
	ErrState = errors.New("approvals: wrong state")
	// ErrNotYet means the delay of a destructive operation has not passed.
	ErrNotYet = errors.New("approvals: delay not over")
	// ErrMismatch means an execution that differs from what was approved.
	ErrMismatch = errors.New("approvals: execution differs from the approved proposal")
	// ErrQuorumImpossible means fewer eligible principals exist than needed.
	ErrQuorumImpossible = errors.New("approvals: quorum impossible")
	// ErrTransient marks an execution failure of a scheduled operation
	// worth retrying (the KMS was unavailable); executors wrap it.
	ErrTransient = errors.New("approvals: transient execution failure")
	// ErrNotFound means no such proposal.
	ErrNotFound = errors.New("approvals: not found")
)
