package controlplane

import "github.com/mediaseal/mediaseal/kms"

// retire reports to Deps.KeyRetired every key reference the previous
// catalog refresh saw usable and this one does not. The catalog already
// keeps new sessions off such a key; this lets the gateway also wipe the
// DEKs it pre-fetched under it. It runs on every refresh, so a key
// disabled through another gateway is retired here within PolicyRefresh.
func (s *Service) retire(keys map[string]kms.KeyRef, unusable map[kms.KeyRef]string) {
	usable := make(map[kms.KeyRef]bool, len(keys))
	for _, ref := range keys {
		if _, off := unusable[ref]; !off {
			usable[ref] = true
		}
	}
	s.usableMu.Lock()
	defer s.usableMu.Unlock()
	prev := s.usable
	s.usable = usable
	if s.deps.KeyRetired == nil {
		return
	}
	for ref := range prev {
		if !usable[ref] {
			s.deps.KeyRetired(ref)
		}
	}
}
