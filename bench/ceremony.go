package bench

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
)

// seedCeremony writes into a new gateway's store what a finished key
// ceremony leaves: the config's keys registered and bound, its policies
// created. A config file binds no key and puts no queue under a customer
// key by itself (that takes the quorum), so a load test of customer-key
// recording starts from the state the ceremony would have reached; it
// writes the store as its holder, before the gateway ever opens it.
func seedCeremony(ctx context.Context, configPath string) error {
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	scfg := store.Config{SQLitePath: cfg.SQLitePath()}
	if cfg.Store.Driver == "postgres" {
		scfg = store.Config{PostgresDSN: cfg.Store.DSN}
	}
	st, err := store.Open(ctx, scfg)
	if err != nil {
		return fmt.Errorf("%w: open the store to seed the ceremony: %v", ErrSpawn, err)
	}
	defer st.Close()
	for _, k := range cfg.Keys {
		if _, err := st.CreateKey(ctx, store.Key{ID: k.ID, Name: k.Name, KeyType: k.ProviderType, Region: k.Region, Ref: k.ProviderKeyID,
			State: string(kms.StateEnabled)}); err != nil && !errors.Is(err, store.ErrDuplicate) {
			return fmt.Errorf("%w: seed key %s: %v", ErrSpawn, k.ID, err)
		}
		if _, err := st.UpdateKeyBinding(ctx, k.ID, store.Binding{Status: store.BindingBound, KMSState: "ENABLED", KMSRegion: k.Region}); err != nil {
			return fmt.Errorf("%w: bind key %s: %v", ErrSpawn, k.ID, err)
		}
	}
	for _, p := range cfg.Policies {
		if _, err := st.CreatePolicy(ctx, p); err != nil && !errors.Is(err, store.ErrDuplicate) {
			return fmt.Errorf("%w: seed policy %s: %v", ErrSpawn, p.ID, err)
		}
	}
	return nil
}
