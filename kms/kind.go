package kms

import "strings"

// Kind is one kind of key provider, named the two ways mediaseal names
// it. Type is the name of the key registry (keyType), of policies and of
// config keys (providerType); Name is the one key references, seal
// headers and the index carry (KeyRef.Provider). Config is its section
// under kms: in the gateway's config, which is also the value of
// kms.platform.provider; it is empty for a kind no adapter serves.
type Kind struct {
	Type   string
	Name   string
	Config string
}

// The kinds mediaseal knows. Each adapter declares the one it serves
// (Kind method, [Kinded]) and its tests check it against this list, so a
// type and its name are written here once.
var (
	KindLocal  = Kind{Type: "PLATFORM", Name: "local", Config: "local"}
	KindAWS    = Kind{Type: "AWS_KMS", Name: "aws-kms", Config: "aws"}
	KindPKCS11 = Kind{Type: "PKCS11", Name: "pkcs11", Config: "pkcs11"}
	// KindVault is a key type of the reference guide that no adapter
	// serves: a VAULT key can be registered and named by a policy, but it
	// never binds, and a policy naming it falls back as onKeyUnavailable
	// says.
	KindVault = Kind{Type: "VAULT", Name: "vault"}
)

// Kinded is implemented by every adapter: the kind of keys it serves.
type Kinded interface {
	Kind() Kind
}

// Served reports whether an adapter of mediaseal serves k.
func (k Kind) Served() bool { return k.Config != "" }

// Kinds returns the kinds an adapter serves: the provider types a config
// key and a gateway's providers can have.
func Kinds() []Kind { return []Kind{KindLocal, KindAWS, KindPKCS11} }

// RegistryKinds returns the kinds the key registry and policies accept:
// the served kinds and VAULT.
func RegistryKinds() []Kind { return append(Kinds(), KindVault) }

// KindOfType finds the kind of a registry key type (VAULT included).
func KindOfType(keyType string) (Kind, bool) {
	return find(func(k Kind) bool { return k.Type == keyType })
}

// KindNamed finds the kind of a provider name (KeyRef.Provider).
func KindNamed(name string) (Kind, bool) {
	return find(func(k Kind) bool { return k.Name == name })
}

// KindOfConfig finds the served kind of a config section name (the value
// of kms.platform.provider).
func KindOfConfig(section string) (Kind, bool) {
	return find(func(k Kind) bool { return k.Served() && k.Config == section })
}

func find(match func(Kind) bool) (Kind, bool) {
	for _, k := range RegistryKinds() {
		if match(k) {
			return k, true
		}
	}
	return Kind{}, false
}

// NameOfType returns the provider name of a served key type, "" when no
// adapter serves it.
func NameOfType(keyType string) string {
	if k, ok := KindOfType(keyType); ok && k.Served() {
		return k.Name
	}
	return ""
}

// TypeNames maps each served key type to its provider name.
func TypeNames() map[string]string {
	m := map[string]string{}
	for _, k := range Kinds() {
		m[k.Type] = k.Name
	}
	return m
}

// Types lists the kinds' types for a message: "PLATFORM, AWS_KMS or PKCS11".
func Types(kinds []Kind) string { return list(kinds, func(k Kind) string { return k.Type }) }

// Configs lists the kinds' config sections for a message: "local, aws or pkcs11".
func Configs(kinds []Kind) string { return list(kinds, func(k Kind) string { return k.Config }) }

func list(kinds []Kind, field func(Kind) string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = field(k)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
