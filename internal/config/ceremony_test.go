package config

import (
	"strings"
	"testing"
	"time"
)

func TestCeremonyConfig(t *testing.T) {
	def, err := Parse(Default)
	if err != nil {
		t.Fatal(err)
	}
	if c := def.Ceremony; !c.Bootstrap() || c.AcceptAdminToken() || !c.PlatformPlaybackNeedsQuorum() || len(c.Quorum) != 0 ||
		c.Sweep() != 30*time.Second {
		t.Fatalf("embedded default: %+v", c)
	}
	if c, _ := Parse([]byte("org: {id: x}\n")); !c.Ceremony.Bootstrap() || c.Ceremony.AcceptAdminToken() {
		t.Fatalf("absent section: %+v", c.Ceremony)
	}
	c, err := Parse([]byte("ceremony:\n  sweepInterval: 250ms\n  bootstrapPrincipals: false\n  adminToken: false\n  platformPlaybackQuorum: false\n" +
		"  quorum:\n    key.delete: {approvals: 2, of: 3, eligibleRoles: [key_admin, auditor], delay: 72h}\n    key.disable: {delay: 0s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cer := c.Ceremony
	if cer.Bootstrap() || cer.AcceptAdminToken() || cer.PlatformPlaybackNeedsQuorum() {
		t.Fatalf("explicit false ignored: %+v", cer)
	}
	if cer.Sweep() != 250*time.Millisecond {
		t.Fatalf("sweep interval %v", cer.Sweep())
	}
	del := cer.Quorum["key.delete"]
	if del.Approvals != 2 || del.Of != 3 || len(del.EligibleRoles) != 2 || del.Delay.D() != 72*time.Hour {
		t.Fatalf("key.delete rule %+v", del)
	}
	if d := cer.Quorum["key.disable"].Delay; d == nil || *d != 0 {
		t.Fatalf("an explicit zero delay must stay set: %v", d)
	}
	for _, tt := range []struct{ name, yaml, want string }{
		{"unknown operation", "ceremony: {quorum: {key.export: {approvals: 1}}}\n", "ceremony.quorum: unknown operation"},
		{"approvals", "ceremony: {quorum: {key.bind: {approvals: 17}}}\n", "ceremony.quorum.key.bind.approvals"},
		{"negative approvals", "ceremony: {quorum: {key.bind: {approvals: -1}}}\n", "ceremony.quorum.key.bind.approvals"},
		{"of below approvals", "ceremony: {quorum: {recording.playback: {approvals: 3, of: 2}}}\n", "ceremony.quorum.recording.playback.of"},
		{"role", "ceremony: {quorum: {key.delete: {eligibleRoles: [key_admin, root]}}}\n", "ceremony.quorum.key.delete.eligibleRoles[1]"},
		{"delay", "ceremony: {quorum: {key.delete: {delay: -1h}}}\n", "ceremony.quorum.key.delete.delay"},
		{"long delay", "ceremony: {quorum: {key.delete: {delay: 2200h}}}\n", "ceremony.quorum.key.delete.delay"},
		{"sweep too short", "ceremony: {sweepInterval: 1ms}\n", "ceremony.sweepInterval"},
		{"sweep too long", "ceremony: {sweepInterval: 2h}\n", "ceremony.sweepInterval"},
		{"unknown key", "ceremony: {adminTokens: true}\n", "field adminTokens not found"},
		{"not a bool", "ceremony: {adminToken: maybe}\n", "line 1: cannot unmarshal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
