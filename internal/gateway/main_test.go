package gateway

import (
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
)

// TestMain stops the PostgreSQL cluster the multi-gateway tests start.
func TestMain(m *testing.M) { testenv.PostgresMain(m) }
