package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// BootstrapPrincipal is one of the organisation's first principals.
type BootstrapPrincipal struct {
	ID    string
	Name  string
	Roles []string
}

// DefaultBootstrap is who the embedded default creates on first start:
// enough separate principals to walk a whole ceremony.
var DefaultBootstrap = []BootstrapPrincipal{
	{"key-admin-1", "Key Administrator 1", []string{RoleKeyAdmin}},
	{"key-admin-2", "Key Administrator 2", []string{RoleKeyAdmin}},
	{"policy-admin-1", "Recording Policy Administrator", []string{RolePolicyAdmin}},
	{"auditor-1", "Auditor", []string{RoleAuditor}},
	{"media-service-1", "Media service", []string{RoleMediaService}},
	{"playback-requester-1", "Playback requester", []string{RolePlaybackRequester}},
	{"legal-officer-1", "Legal officer", []string{RoleLegalOfficer}},
}

// Credentials is the file written for each bootstrapped principal.
type Credentials struct {
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	Kind         string   `json:"kind"`
	Roles        []string `json:"roles"`
	Scopes       []string `json:"scopes"`
	TokenURL     string   `json:"tokenUrl"`
}

// CredentialsPath is where Bootstrap writes a principal's credentials.
func CredentialsPath(dataDir, clientID string) string {
	return filepath.Join(dataDir, "credentials", clientID+".json")
}

// Bootstrap creates the principals of list as service accounts if the
// organisation has no principal yet, writing each one's credentials to
// <dataDir>/credentials/<client-id>.json (mode 0600). It reports whether
// it created anything.
func (s *Service) Bootstrap(ctx context.Context, dataDir string, list []BootstrapPrincipal) (bool, error) {
	existing, err := s.repo.ListPrincipals(ctx)
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		return false, nil
	}
	dir := filepath.Join(dataDir, "credentials")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	for _, bp := range list {
		p, secret, err := s.CreatePrincipal(ctx, bp.ID, bp.Name, store.PrincipalService, bp.Roles)
		if err != nil {
			return true, fmt.Errorf("bootstrap %s: %w", bp.ID, err)
		}
		scopes, _ := ScopesOf(p.Roles)
		b, _ := json.MarshalIndent(Credentials{ClientID: p.ID, ClientSecret: secret, Kind: p.Kind, Roles: p.Roles,
			Scopes: scopes, TokenURL: PathToken}, "", "  ")
		if err := WriteFile0600(CredentialsPath(dataDir, p.ID), append(b, '\n')); err != nil {
			return true, fmt.Errorf("bootstrap %s: %w", bp.ID, err)
		}
	}
	return true, nil
}

// WriteFile0600 creates path exclusively with mode 0600 (never widening
// an existing file's mode) and syncs it.
func WriteFile0600(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadCredentials reads a credentials file written by Bootstrap.
func ReadCredentials(path string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
