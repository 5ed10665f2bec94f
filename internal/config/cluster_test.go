package config

import (
	"errors"
	"testing"
)

// TestGatewayIDValidated: a configured gateway.id that could not name a
// file, a log field or an audit target is refused, naming the field.
func TestGatewayIDValidated(t *testing.T) {
	for _, bad := range []string{"GW1", "-a", "a b", "a/b", string(make([]byte, 64))} {
		c, err := Parse(Default)
		if err != nil {
			t.Fatal(err)
		}
		c.Gateway.ID = bad
		var fe *FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != "gateway.id" {
			t.Errorf("gateway.id %q: %v", bad, err)
		}
	}
	c, _ := Parse(Default)
	c.Gateway.ID = "gw-east-1"
	if err := c.Validate(); err != nil {
		t.Fatalf("gateway.id gw-east-1: %v", err)
	}
}
