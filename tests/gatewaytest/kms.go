package gatewaytest

import (
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
)

// StartLocalKMS runs local-kms seeded with key cmk-1.
func StartLocalKMS(t *testing.T) *testenv.LocalKMS {
	return testenv.StartLocalKMS(t, testenv.SeedKey{ID: "cmk-1", BackingKeys: []string{testenv.RandomHexKey(t)}})
}
