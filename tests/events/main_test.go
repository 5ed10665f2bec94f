package events_test

import (
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
)

// TestMain stops the PostgreSQL cluster the tests started.
func TestMain(m *testing.M) { testenv.PostgresMain(m) }
