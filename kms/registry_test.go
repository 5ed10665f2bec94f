package kms

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// describer answers Describe only: the readiness probe calls nothing else.
type describer struct {
	Provider
	info *KeyInfo
	err  error
}

func (d describer) Describe(context.Context, KeyRef) (*KeyInfo, error) { return d.info, d.err }

func TestRegistryUsable(t *testing.T) {
	ref := KeyRef{Provider: "p", KeyID: "k"}
	for _, c := range []struct {
		name string
		r    Registry
		ok   bool
		says string
	}{
		{"enabled", Registry{"p": describer{info: &KeyInfo{State: StateEnabled}}}, true, "ok"},
		{"disabled", Registry{"p": describer{info: &KeyInfo{State: StateDisabled}}}, false, "unusable: key is " + string(StateDisabled)},
		{"describe fails", Registry{"p": describer{err: errors.New("access denied")}}, false, "access denied"},
		{"no provider", Registry{}, false, `no provider "p"`},
	} {
		says, ok := c.r.Usable(context.Background(), ref)
		if ok != c.ok || !strings.Contains(says, c.says) {
			t.Errorf("%s: Usable = %q, %v; want %v and %q", c.name, says, ok, c.ok, c.says)
		}
	}
}
