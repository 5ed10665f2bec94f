package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mediaseal/mediaseal/kms"
)

// DestroyKey crypto-shreds keyID: every version's KEK file is overwritten
// with zeros, synced and removed, with the key's directory, and the key is
// dropped from memory. Every DEK wrapped under it becomes unrecoverable.
// (On flash or copy-on-write storage the overwrite is best effort; the
// removal is what counts, with backups of the keyring kept out of reach.)
// Destroying a key that does not exist is not an error.
func (k *Keyring) DestroyKey(_ context.Context, ref kms.KeyRef) error {
	if err := k.checkRef(ref); err != nil {
		return err
	}
	if !keyIDPattern.MatchString(ref.KeyID) {
		return fmt.Errorf("%w: invalid local key id %q", kms.ErrNotFound, ref.KeyID)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, ref.KeyID)
	dir := filepath.Join(k.dir, ref.KeyID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %v", kms.ErrUnavailable, err)
	}
	for _, de := range ents {
		if err := zeroFile(filepath.Join(dir, de.Name())); err != nil {
			return fmt.Errorf("local keyring: destroy %s: %w", ref.KeyID, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("local keyring: destroy %s: %w", ref.KeyID, err)
	}
	if d, err := os.Open(k.dir); err == nil {
		_ = d.Sync() // make the removal durable
		d.Close()
	}
	return nil
}

func zeroFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(make([]byte, st.Size()), 0); err != nil {
		return err
	}
	return f.Sync()
}
