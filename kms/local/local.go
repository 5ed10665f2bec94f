// Package local is the platform keyring: key encryption keys (KEKs) kept in
// versioned files (mode 0600) under a directory, wrapping DEKs with
// AES-256-GCM bound to the key reference, the version and the encryption
// context. It is the embedded default and the fallback key of the broker.
package local

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/secmem"
)

// ProviderName is the Provider field of key references served by this package.
const ProviderName = "local"

const (
	wrapFormat     = 1
	nonceSize      = 12
	kekSize        = 32
	disabledMarker = "DISABLED"
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Keyring is a directory of versioned KEKs. Safe for concurrent use.
type Keyring struct {
	dir    string
	region string

	mu   sync.RWMutex
	keys map[string]*keyEntry
}

type keyEntry struct {
	versions map[int]cipher.AEAD
	current  int
	disabled bool
}

var _ kms.Provider = (*Keyring)(nil)

// Open loads the keyring at dir (created with mode 0700 if missing). region
// is reported by Describe.
func Open(dir, region string) (*Keyring, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local keyring: %w", err)
	}
	return &Keyring{dir: dir, region: region, keys: map[string]*keyEntry{}}, nil
}

// EnsureKey creates keyID with a first version if it does not exist yet.
func (k *Keyring) EnsureKey(keyID string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, err := k.loadLocked(keyID)
	if err == nil && e.current > 0 {
		return nil
	}
	if err != nil && !errors.Is(err, kms.ErrNotFound) {
		return err
	}
	_, err = k.addVersionLocked(keyID)
	return err
}

// Rotate adds a new version to keyID and makes it current. Older versions
// still unwrap.
func (k *Keyring) Rotate(_ context.Context, ref kms.KeyRef) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, err := k.loadLocked(ref.KeyID); err != nil {
		return "", err
	}
	v, err := k.addVersionLocked(ref.KeyID)
	if err != nil {
		return "", err
	}
	return versionName(v), nil
}

// SetDisabled disables or re-enables keyID. A disabled key neither generates
// nor unwraps.
func (k *Keyring) SetDisabled(keyID string, disabled bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, err := k.loadLocked(keyID)
	if err != nil {
		return err
	}
	marker := filepath.Join(k.dir, keyID, disabledMarker)
	if disabled {
		err = os.WriteFile(marker, nil, 0o600)
	} else {
		err = os.Remove(marker)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("local keyring: %w", err)
	}
	e.disabled = disabled
	return nil
}

func versionName(v int) string { return "v" + strconv.Itoa(v) }

func parseVersion(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
	return n, err == nil && strings.HasPrefix(s, "v") && n > 0
}

func (k *Keyring) addVersionLocked(keyID string) (int, error) {
	e := k.keys[keyID]
	if e == nil {
		e = &keyEntry{versions: map[int]cipher.AEAD{}}
	}
	next := e.current + 1
	// The raw KEK lives only in a dump-excluded, locked buffer until the
	// AEAD is made from it (secmem's package comment says what stays on
	// the Go heap: the AES key schedule).
	buf, err := secmem.New(kekSize)
	if err != nil {
		return 0, fmt.Errorf("local keyring: %w", err)
	}
	defer buf.Close()
	kek := buf.Bytes()
	if _, err := rand.Read(kek); err != nil {
		return 0, err
	}
	dir := filepath.Join(k.dir, keyID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("local keyring: %w", err)
	}
	path := filepath.Join(dir, versionName(next)+".kek")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("local keyring: %w", err)
	}
	_, err = f.Write(kek)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("local keyring: write %s: %w", path, err)
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return 0, err
	}
	e.versions[next] = aead
	e.current = next
	k.keys[keyID] = e
	return next, nil
}

// loadLocked returns the key entry, reading its versions from disk on first use.
func (k *Keyring) loadLocked(keyID string) (*keyEntry, error) {
	if e, ok := k.keys[keyID]; ok {
		return e, nil
	}
	if !keyIDPattern.MatchString(keyID) {
		return nil, fmt.Errorf("%w: invalid local key id %q", kms.ErrNotFound, keyID)
	}
	dir := filepath.Join(k.dir, keyID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: local key %q", kms.ErrNotFound, keyID)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", kms.ErrUnavailable, err)
	}
	e := &keyEntry{versions: map[int]cipher.AEAD{}}
	for _, de := range ents {
		name := de.Name()
		if name == disabledMarker {
			e.disabled = true
			continue
		}
		v, ok := parseVersion(strings.TrimSuffix(name, ".kek"))
		if !ok || !strings.HasSuffix(name, ".kek") {
			continue
		}
		aead, err := loadKEK(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("local keyring: %s/%s: %w", keyID, name, err)
		}
		e.versions[v] = aead
		e.current = max(e.current, v)
	}
	if e.current == 0 {
		return nil, fmt.Errorf("%w: local key %q has no versions", kms.ErrNotFound, keyID)
	}
	k.keys[keyID] = e
	return e, nil
}

func (k *Keyring) entry(keyID string) (*keyEntry, error) {
	k.mu.RLock()
	e, ok := k.keys[keyID]
	k.mu.RUnlock()
	if ok {
		return e, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.loadLocked(keyID)
}

// loadKEK reads a KEK file straight into a dump-excluded, locked buffer
// (never a heap copy) and returns its AEAD; the buffer is wiped on return.
func loadKEK(path string) (cipher.AEAD, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", kms.ErrUnavailable, err)
	}
	defer f.Close()
	buf, err := secmem.New(kekSize + 1) // one more byte shows a longer file
	if err != nil {
		return nil, fmt.Errorf("local keyring: %w", err)
	}
	defer buf.Close()
	n, err := io.ReadFull(f, buf.Bytes())
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%w: %v", kms.ErrUnavailable, err)
	}
	return newAEAD(buf.Bytes()[:n])
}

func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != kekSize {
		return nil, fmt.Errorf("KEK is %d bytes, want %d", len(kek), kekSize)
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func aad(keyID string, version int, ec kms.EncryptionContext) []byte {
	a := []byte("mediaseal/local-keyring/v1\x00" + keyID + "\x00" + versionName(version) + "\x00")
	return append(a, ec.Canonical()...)
}

func (k *Keyring) checkRef(ref kms.KeyRef) error {
	if ref.Provider != ProviderName {
		return fmt.Errorf("%w: provider %q is not %q", kms.ErrNotFound, ref.Provider, ProviderName)
	}
	return nil
}

// GenerateDataKey implements kms.Provider.
func (k *Keyring) GenerateDataKey(_ context.Context, ref kms.KeyRef, ec kms.EncryptionContext) (*kms.DataKey, error) {
	if err := k.checkRef(ref); err != nil {
		return nil, err
	}
	dek := make([]byte, kms.DEKSize)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	wrapped, version, err := k.wrap(ref.KeyID, dek, ec)
	if err != nil {
		clear(dek)
		return nil, err
	}
	return &kms.DataKey{Plaintext: dek, Wrapped: wrapped, KeyVersion: version}, nil
}

func (k *Keyring) wrap(keyID string, dek []byte, ec kms.EncryptionContext) ([]byte, string, error) {
	e, err := k.entry(keyID)
	if err != nil {
		return nil, "", err
	}
	k.mu.RLock()
	disabled, v := e.disabled, e.current
	aead := e.versions[v]
	k.mu.RUnlock()
	if disabled {
		return nil, "", fmt.Errorf("%w: local key %q", kms.ErrDisabled, keyID)
	}
	// Layout: format(1) | version(4, big endian) | nonce(12) | GCM(dek).
	out := make([]byte, 5+nonceSize, 5+nonceSize+len(dek)+aead.Overhead())
	out[0] = wrapFormat
	out[1], out[2], out[3], out[4] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	if _, err := rand.Read(out[5 : 5+nonceSize]); err != nil {
		return nil, "", err
	}
	out = aead.Seal(out, out[5:5+nonceSize], dek, aad(keyID, v, ec))
	return out, versionName(v), nil
}

// Unwrap implements kms.Provider.
func (k *Keyring) Unwrap(_ context.Context, ref kms.KeyRef, wrapped []byte, ec kms.EncryptionContext) ([]byte, error) {
	if err := k.checkRef(ref); err != nil {
		return nil, err
	}
	e, err := k.entry(ref.KeyID)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 5+nonceSize+16 || wrapped[0] != wrapFormat {
		return nil, fmt.Errorf("%w: malformed wrapped key (%d bytes)", kms.ErrInvalidCiphertext, len(wrapped))
	}
	v := int(wrapped[1])<<24 | int(wrapped[2])<<16 | int(wrapped[3])<<8 | int(wrapped[4])
	k.mu.RLock()
	disabled := e.disabled
	aead, ok := e.versions[v]
	k.mu.RUnlock()
	if disabled {
		return nil, fmt.Errorf("%w: local key %q", kms.ErrDisabled, ref.KeyID)
	}
	if !ok {
		return nil, fmt.Errorf("%w: local key %q has no version %d", kms.ErrInvalidCiphertext, ref.KeyID, v)
	}
	dek, err := aead.Open(nil, wrapped[5:5+nonceSize], wrapped[5+nonceSize:], aad(ref.KeyID, v, ec))
	if err != nil {
		return nil, fmt.Errorf("%w: local key %q %s", kms.ErrInvalidCiphertext, ref.KeyID, versionName(v))
	}
	return dek, nil
}

// Rewrap implements kms.Provider: the DEK is unwrapped and wrapped again
// under the current version inside this process, never leaving it.
func (k *Keyring) Rewrap(ctx context.Context, ref kms.KeyRef, wrapped []byte, ec kms.EncryptionContext) ([]byte, string, error) {
	dek, err := k.Unwrap(ctx, ref, wrapped, ec)
	if err != nil {
		return nil, "", err
	}
	defer clear(dek)
	return k.wrap(ref.KeyID, dek, ec)
}

// Describe implements kms.Provider.
func (k *Keyring) Describe(_ context.Context, ref kms.KeyRef) (*kms.KeyInfo, error) {
	if err := k.checkRef(ref); err != nil {
		return nil, err
	}
	e, err := k.entry(ref.KeyID)
	if err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	info := &kms.KeyInfo{Ref: ref, State: kms.StateEnabled, Region: k.region, CurrentVersion: versionName(e.current)}
	if e.disabled {
		info.State = kms.StateDisabled
	}
	vs := make([]int, 0, len(e.versions))
	for v := range e.versions {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	for _, v := range vs {
		info.Versions = append(info.Versions, versionName(v))
	}
	return info, nil
}
