package kms

import (
	"context"
	"fmt"
	"slices"
)

// Registry is the providers one gateway opened, by provider name. The
// gateway fills it while it is assembled; after that it is only read, so
// it needs no lock. The key registry's types reach it through the kinds
// ([KindOfType]), so a type is mapped to its provider in one place.
type Registry map[string]Provider

// Add registers p under the name of the kind it declares.
func (r Registry) Add(p Provider) error {
	k, ok := p.(Kinded)
	if !ok {
		return fmt.Errorf("kms: provider %T declares no kind", p)
	}
	if !slices.Contains(Kinds(), k.Kind()) {
		return fmt.Errorf("kms: provider %T declares kind %+v, which is not one of %s", p, k.Kind(), Types(Kinds()))
	}
	r[k.Kind().Name] = p
	return nil
}

// ByName returns the provider of a provider name (KeyRef.Provider).
func (r Registry) ByName(name string) (Provider, bool) {
	p, ok := r[name]
	return p, ok && p != nil
}

// ByType returns the provider serving a registry key type, with its kind.
// ok is false when the type is unknown, served by no adapter, or its
// provider is not open on this gateway; the kind is still returned when
// an adapter serves the type, so a refusal can name it.
func (r Registry) ByType(keyType string) (Provider, Kind, bool) {
	k, ok := KindOfType(keyType)
	if !ok || !k.Served() {
		return nil, Kind{}, false
	}
	p, ok := r.ByName(k.Name)
	return p, k, ok
}

// Provider returns the provider serving a registry key type and its
// provider name (as ByType): the lookup the keys API and the rotator make.
func (r Registry) Provider(keyType string) (Provider, string, bool) {
	p, k, ok := r.ByType(keyType)
	return p, k.Name, ok
}

// Capabilities reports what the provider of name can do here (all false
// when it is not open).
func (r Registry) Capabilities(name string) Capabilities {
	p, ok := r.ByName(name)
	if !ok {
		return Capabilities{}
	}
	return CapabilitiesOf(p)
}

// Usable is a readiness probe of ref: "ok" when its provider describes it
// as enabled; any error or other state is "unusable" with the reason.
func (r Registry) Usable(ctx context.Context, ref KeyRef) (string, bool) {
	p, ok := r[ref.Provider]
	if !ok {
		return fmt.Sprintf("unusable: no provider %q", ref.Provider), false
	}
	info, err := p.Describe(ctx, ref)
	if err != nil {
		return fmt.Sprint("unusable: ", err), false
	}
	if info.State != StateEnabled {
		return fmt.Sprintf("unusable: key is %s", info.State), false
	}
	return "ok", true
}
