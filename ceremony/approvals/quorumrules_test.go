package approvals

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestStrictestRule: a rule change always needs at least as many
// approvals (and eligible principals) as any stored rule, its own rule
// included, whatever the rules are.
func TestStrictestRule(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		rules := DefaultRules()
		for op, rule := range rules {
			rule.Approvals = 1 + r.IntN(MaxApprovals)
			rule.Of = rule.Approvals + r.IntN(4)
			rules[op] = rule
		}
		s := StrictestRule(rules)
		for op, rule := range rules {
			if s.Approvals < rule.Approvals || s.Of < rule.Of {
				t.Fatalf("change rule %d of %d is weaker than %s's %d of %d", s.Approvals, s.Of, op, rule.Approvals, rule.Of)
			}
		}
		if s.Delay != 0 || len(s.Eligible) == 0 {
			t.Fatalf("change rule %+v", s)
		}
	}
}

// TestParseRuleChange: the rule change is decoded strictly and never
// below the floors.
func TestParseRuleChange(t *testing.T) {
	const ok = `{"approvals":2,"of":3,"eligibleRoles":["policy_admin","key_admin"],"delay":"0s","vetoers":["auditor"],"platformPlayback":false}`
	r, err := ParseRuleChange(OpPlayback, []byte(ok))
	if err != nil || r.Approvals != 2 || r.Of != 3 || r.Eligible[0] != "key_admin" || r.PlatformPlayback {
		t.Fatalf("%+v %v", r, err)
	}
	if r, err := ParseRuleChange(OpKeyDelete, []byte(`{"approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"168h","vetoers":["auditor"]}`)); err != nil || r.Delay.Hours() != 168 {
		t.Fatalf("key.delete: %+v %v", r, err)
	}
	for name, body := range map[string]string{
		"duplicate":          `{"approvals":2,"approvals":1,"of":3,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"],"platformPlayback":false}`,
		"case-folded":        `{"Approvals":1,"of":3,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"],"platformPlayback":false}`,
		"escaped name":       `{"appro\u0076als":1,"of":3,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"],"platformPlayback":false,"approvals":2}`,
		"missing field":      `{"approvals":2,"of":3,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"]}`,
		"trailing data":      ok + `{}`,
		"invalid UTF-8":      "{\"approvals\":2,\"of\":3,\"eligibleRoles\":[\"key_admin\xff\"],\"delay\":\"0s\",\"vetoers\":[\"auditor\"],\"platformPlayback\":false}",
		"zero approvals":     `{"approvals":0,"of":0,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"],"platformPlayback":true}`,
		"requester approves": `{"approvals":1,"of":1,"eligibleRoles":["playback_requester"],"delay":"0s","vetoers":["auditor"],"platformPlayback":true}`,
		"unknown role":       `{"approvals":1,"of":1,"eligibleRoles":["root"],"delay":"0s","vetoers":["auditor"],"platformPlayback":true}`,
		"approver vetoes":    `{"approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["approver"],"platformPlayback":true}`,
		"delay":              `{"approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"1m","vetoers":["auditor"],"platformPlayback":true}`,
		"negative":           `{"approvals":-1,"of":1,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"],"platformPlayback":true}`,
		"not an object":      `[1]`,
	} {
		if _, err := ParseRuleChange(OpPlayback, []byte(body)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseRuleChange(OpKeyBind, []byte(ok)); !errors.Is(err, ErrInvalid) {
		t.Errorf("platformPlayback on key.bind: %v", err)
	}
	if _, err := ParseRuleChange("key.export", []byte(`{"approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor"]}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown operation: %v", err)
	}
}
