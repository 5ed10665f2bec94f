package gatewaytest

import (
	"testing"
)

// OpQuorum is approvals.OpQuorum, spelt out so that this file also
// builds (and fails) on the code before the rules moved to the store.
const OpQuorum = "ceremony.quorum"

// PlaybackRule is recording.playback's rule as a rule-change body.
func PlaybackRule(approvals int, platform bool) map[string]any {
	return map[string]any{"approvals": approvals, "of": approvals, "eligibleRoles": []string{"approver", "key_admin", "policy_admin"},
		"delay": "0s", "vetoers": []string{"auditor", "key_admin"}, "platformPlayback": platform}
}

// ChangeQuorumRule changes a stored rule the only way there is: key-admin-1
// proposes ceremony.quorum, key-admin-2 and policy-admin-1 approve, the
// proposer executes it on tg (whose principals' credentials are in creds).
func ChangeQuorumRule(t *testing.T, tg, creds *Gateway, op string, rule map[string]any) map[string]any {
	t.Helper()
	ka1 := creds.Principal("key-admin-1")
	id, digest := ka1.Propose(OpQuorum, op, rule, "test: change the "+op+" rule")
	for _, who := range []string{"key-admin-2", "policy-admin-1"} {
		creds.Principal(who).Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	}
	return Via(tg, ka1).Must(200, "PUT", "/api/v2/ceremony/quorum/"+op, rule, "X-Approval-Id", id)
}

// Via is p calling another gateway sharing its store (same token).
func Via(tg *Gateway, p *Principal) *Principal {
	return &Principal{TG: tg, Creds: p.Creds, Token: p.Token}
}
