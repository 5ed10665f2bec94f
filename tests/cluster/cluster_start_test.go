package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// clusterMember is an in-process gateway started without the harness's
// t.Fatal, so several can start at once from goroutines.
type clusterMember struct {
	cfg  *config.Config
	g    *gateway.Gateway
	url  string
	stop context.CancelFunc
	done chan error
}

// startMember runs New and Run and returns once the API listens, or the
// error that ended the start.
func startMember(cfg *config.Config, t testing.TB) (*clusterMember, error) {
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, zaptest.NewLogger(t))
	if err != nil {
		cancel()
		return nil, err
	}
	m := &clusterMember{cfg: cfg, g: g, stop: cancel, done: make(chan error, 1)}
	go func() { m.done <- g.Run(ctx) }()
	select {
	case <-g.Ready():
		m.url = "http://" + g.Addr()
		return m, nil
	case err := <-m.done:
		cancel()
		g.Close()
		return nil, fmt.Errorf("run: %w", err)
	case <-time.After(60 * time.Second):
		cancel()
		return nil, errors.New("not ready after 60 s")
	}
}

func (m *clusterMember) shutdown(t testing.TB) {
	if m.stop == nil {
		return
	}
	m.stop()
	m.stop = nil
	if err := <-m.done; err != nil {
		t.Errorf("gateway run: %v", err)
	}
	m.g.Close()
}

// clusterConfig is a gateway config sharing one PostgreSQL database, one
// platform keyring and one recordings directory with its peers.
func clusterConfig(t *testing.T, dsn, shared string) *config.Config {
	return gatewaytest.Config(t, func(c *config.Config) {
		c.Store.Driver, c.Store.DSN = "postgres", dsn
		c.KMS.Local.Dir = filepath.Join(shared, "keyring")
		c.Storage.Type, c.Storage.FS.Dir = "fs", filepath.Join(shared, "recordings")
	})
}

// tokenAt asks the gateway at base for a token with the credentials c.
func tokenAt(t *testing.T, base string, c auth.Credentials) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"grantType": "client_credentials", "scopes": c.Scopes,
		"applicationId": c.ClientID, "expirationSeconds": 600, "clientSecret": c.ClientSecret})
	resp, err := http.Post(base+auth.PathTokenJSON, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.AccessToken == "" {
		t.Fatalf("token for %s at %s: %d", c.ClientID, base, resp.StatusCode)
	}
	return out.AccessToken
}

// TestClusterFirstStartConcurrent starts three gateways at once on one
// fresh PostgreSQL database. All three start; the store holds exactly one
// token-signing key, one audit-signing key, one secret pepper and one set
// of bootstrap principals (whose credentials one gateway wrote); a token
// issued by any gateway is accepted by every other, and a client secret
// verifies at every gateway (one pepper).
func TestClusterFirstStartConcurrent(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	shared := t.TempDir()
	const n = 3
	cfgs := make([]*config.Config, n)
	for i := range cfgs {
		cfgs[i] = clusterConfig(t, dsn, shared)
	}
	// The platform keyring stands for a shared KMS: it is provisioned
	// before the gateways scale out (it is files, not the store).
	kr, err := local.Open(cfgs[0].KeyringDir(), cfgs[0].Org.Region)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey(cfgs[0].KMS.Platform.KeyID); err != nil {
		t.Fatal(err)
	}
	members := make([]*clusterMember, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			members[i], errs[i] = startMember(cfgs[i], t)
		}()
	}
	close(start)
	wg.Wait()
	for i, m := range members {
		if m != nil {
			t.Cleanup(func() { m.shutdown(t) })
		}
		if errs[i] != nil {
			t.Errorf("gateway %d did not start: %v", i, errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	st := members[0].g.Store()
	ctx := context.Background()
	for _, purpose := range []string{store.KeyPurposeTokenSigning, store.KeyPurposeAuditSigning, store.KeyPurposeSecretPepper} {
		ks, err := st.ListServerKeys(ctx, purpose)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 1 {
			t.Errorf("%d %s keys in the store, want 1", len(ks), purpose)
		}
	}
	ps, err := st.ListPrincipals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(auth.DefaultBootstrap) {
		t.Errorf("%d principals in the store, want %d", len(ps), len(auth.DefaultBootstrap))
	}
	// Exactly one gateway wrote the credentials; they are the ones stored.
	var creds auth.Credentials
	writers := 0
	for _, m := range members {
		c, err := auth.ReadCredentials(auth.CredentialsPath(m.cfg.DataDir, "key-admin-1"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		creds, writers = c, writers+1
	}
	if writers != 1 {
		t.Fatalf("%d gateways wrote bootstrap credentials, want 1", writers)
	}
	// Every gateway verifies the secret (one pepper) and issues a token
	// every other gateway accepts (one signing key set).
	for i, issuer := range members {
		tok := tokenAt(t, issuer.url, creds)
		for j, m := range members {
			if code, body, _ := gatewaytest.RawCall(t, "GET", m.url+"/api/v2/keys", tok, nil); code != http.StatusOK {
				t.Errorf("token from gateway %d at gateway %d: %d %s", i, j, code, body)
			}
		}
	}
}
