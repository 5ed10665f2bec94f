package pkcs11

import "fmt"

// DefaultSessions is the size of the session pool when Config.Sessions is 0.
const DefaultSessions = 4

// Config configures the HSM provider.
type Config struct {
	// ModulePath is the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so.
	ModulePath string `yaml:"modulePath"`
	// TokenLabel selects the token (slot) by its label.
	TokenLabel string `yaml:"tokenLabel"`
	// PIN is the user PIN of the token.
	PIN string `yaml:"pin"`
	// Region is where the HSM is; reported by Describe.
	Region string `yaml:"region,omitempty"`
	// OrgRegion is the organisation's region; an HSM elsewhere is refused.
	OrgRegion string `yaml:"orgRegion,omitempty"`
	// Sessions is how many PKCS#11 sessions serve concurrent calls.
	Sessions int `yaml:"sessions,omitempty"`
}

// Validate names the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.ModulePath == "":
		return fmt.Errorf("pkcs11: modulePath is required")
	case c.TokenLabel == "":
		return fmt.Errorf("pkcs11: tokenLabel is required")
	case c.PIN == "":
		return fmt.Errorf("pkcs11: pin is required")
	case c.Sessions < 0:
		return fmt.Errorf("pkcs11: sessions %d is negative", c.Sessions)
	}
	return nil
}
