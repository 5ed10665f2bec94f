// Package approvals is the quorum of the key ceremony. A principal
// proposes an operation (operation, target, parameters, reason) whose
// canonical JSON ([Canonical]) and its SHA-256 digest are fixed when it is
// proposed; M distinct eligible principals, never the proposer, approve
// that digest; the proposal expires if the quorum is not reached in time
// (default 24 h). An approved operation may be executed once, by its
// proposer, within an execution window (default 10 min); destructive key
// operations first wait out a delay (7 days for deletion, 24 h for
// disable) during which a key administrator or auditor can veto them.
//
// Operations that need a quorum: binding a customer key ([OpKeyBind]),
// changing a policy's encryptionKeyReference ([OpPolicyKey]), disabling or
// scheduling deletion of a key ([OpKeyDisable], [OpKeyDelete]) and playing
// back or exporting a customer-key recording ([OpPlayback]). Every step is
// recorded in the audit log.
package approvals
