package audiohook

import (
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
)

// TestMain stops the PostgreSQL cluster a test may have started.
func TestMain(m *testing.M) { testenv.PostgresMain(m) }
