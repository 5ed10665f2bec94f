package controlplane

import "fmt"

// RepointError refuses a start whose config names a registered key with
// another provider or reference than the registry's: a config file cannot
// re-point a key. Index is the key's position in Config.Keys.
type RepointError struct {
	Index                 int
	Key                   string
	StoredType, StoredRef string
	ConfigType, ConfigRef string
}

func (e *RepointError) Error() string {
	return fmt.Sprintf("the key registry holds %s as %s %q, the config names %s %q: a config file cannot re-point a registered key",
		e.Key, e.StoredType, e.StoredRef, e.ConfigType, e.ConfigRef)
}
