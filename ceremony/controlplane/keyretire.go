package controlplane

import "github.com/mediaseal/mediaseal/kms"

// retire reports to Deps.KeyRetired, at every catalog refresh, each key
// reference that is registered but not usable and each that left the
// catalog since the previous refresh. The catalog already keeps new
// sessions off such a key; this lets the gateway also wipe the DEKs it
// pre-fetched under it. Reporting at every refresh rather than once
// closes the race of a session that resolved the key just before it
// became unusable and started its pool just after; it runs on every
// refresh, so a key disabled through another gateway is retired here too,
// within PolicyRefresh.
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
	for ref := range unusable {
		s.deps.KeyRetired(ref)
	}
	for ref := range prev {
		if _, off := unusable[ref]; !off && !usable[ref] { // unregistered
			s.deps.KeyRetired(ref)
		}
	}
}
