// Package approvals is the quorum of the key ceremony. A principal
// proposes an operation (operation, target, parameters, reason) whose
// canonical JSON ([Canonical]) and its SHA-256 digest are fixed when it is
// proposed; M distinct eligible principals, never the proposer, approve
// that digest; the proposal expires if the quorum is not reached in time
// (default 24 h). An approved operation without a delay (bind, policy key
// change, playback) is APPROVED: its proposer executes it once, within an
// execution window (default 10 min). An operation with a delay (key
// disable 24 h, key deletion 7 days) is SCHEDULED when its quorum is
// reached: a key administrator or auditor can veto it any time until it
// runs, and when the delay is over the gateway executes it itself
// ([Service.RunDue], claimed in the store so that exactly one of several
// gateways does), on behalf of its approvers: EXECUTED, or FAILED after
// transient failures were retried until its ExecuteBy.
//
//	PENDING ─quorum, no delay─▶ APPROVED ─proposer, in the window─▶ EXECUTED
//	PENDING ─quorum, delay─▶ SCHEDULED ─due─▶ EXECUTING ─▶ EXECUTED | FAILED
//	                            ▲                 │ transient failure
//	                            └─────────────────┘ (before ExecuteBy)
//	PENDING, SCHEDULED ─veto─▶ VETOED    PENDING, APPROVED ─time─▶ EXPIRED
//
// Operations that need a quorum: binding a customer key ([OpKeyBind]),
// changing a policy's encryptionKeyReference ([OpPolicyKey]), disabling or
// scheduling deletion of a key ([OpKeyDisable], [OpKeyDelete]) and playing
// back or exporting a customer-key recording ([OpPlayback]). Every step is
// recorded in the audit log.
package approvals
