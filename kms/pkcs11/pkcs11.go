package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/mediaseal/mediaseal/kms"
)

// ProviderName is the Provider field of key references served here.
const ProviderName = "pkcs11"

// Provider is the PKCS#11 adapter. Safe for concurrent use; Close releases
// the module.
type Provider struct {
	ctx       *p11.Ctx
	cfg       Config
	sessions  chan p11.SessionHandle
	all       []p11.SessionHandle
	closeOnce sync.Once
	closed    chan struct{}
}

var (
	_ kms.Provider = (*Provider)(nil)
	_ kms.Rotator  = (*Provider)(nil)
	_ kms.Disabler = (*Provider)(nil)
)

// New loads the module, finds the token by label, opens a session pool and
// logs in as the user.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := kms.CheckRegion(kms.KeyRef{Provider: ProviderName, KeyID: cfg.TokenLabel}, cfg.Region, cfg.OrgRegion); err != nil {
		return nil, err
	}
	c := p11.New(cfg.ModulePath)
	if c == nil {
		return nil, fmt.Errorf("%w: pkcs11: cannot load module %s", kms.ErrUnavailable, cfg.ModulePath)
	}
	if err := c.Initialize(); err != nil && !isRV(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		c.Destroy()
		return nil, translate("C_Initialize", cfg.TokenLabel, err)
	}
	p := &Provider{ctx: c, cfg: cfg, closed: make(chan struct{})}
	if err := p.open(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Provider) open() error {
	slot, err := p.findSlot()
	if err != nil {
		return err
	}
	n := p.cfg.Sessions
	if n == 0 {
		n = DefaultSessions
	}
	p.sessions = make(chan p11.SessionHandle, n)
	for i := range n {
		sh, err := p.ctx.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
		if err != nil {
			return translate("C_OpenSession", p.cfg.TokenLabel, err)
		}
		if i == 0 {
			if err := p.ctx.Login(sh, p11.CKU_USER, p.cfg.PIN); err != nil && !isRV(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
				p.ctx.CloseSession(sh)
				return translate("C_Login", p.cfg.TokenLabel, err)
			}
		}
		p.all = append(p.all, sh)
		p.sessions <- sh
	}
	return nil
}

func (p *Provider) findSlot() (uint, error) {
	slots, err := p.ctx.GetSlotList(true)
	if err != nil {
		return 0, translate("C_GetSlotList", p.cfg.TokenLabel, err)
	}
	for _, s := range slots {
		ti, err := p.ctx.GetTokenInfo(s)
		if err == nil && ti.Label == p.cfg.TokenLabel {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: pkcs11: no token labelled %q", kms.ErrUnavailable, p.cfg.TokenLabel)
}

// Close logs out, closes the sessions and unloads the module. Idempotent.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		close(p.closed)
		if len(p.all) > 0 {
			_ = p.ctx.Logout(p.all[0])
		}
		for _, sh := range p.all {
			_ = p.ctx.CloseSession(sh)
		}
		_ = p.ctx.Finalize()
		p.ctx.Destroy()
	})
	return nil
}

// withSession runs f on a pooled session, waiting for one no longer than ctx.
func (p *Provider) withSession(ctx context.Context, f func(sh p11.SessionHandle) error) error {
	select {
	case <-p.closed:
		return fmt.Errorf("%w: pkcs11 provider closed", kms.ErrUnavailable)
	default:
	}
	select {
	case sh := <-p.sessions:
		defer func() { p.sessions <- sh }()
		return f(sh)
	case <-ctx.Done():
		return fmt.Errorf("%w: pkcs11: waiting for a session: %w", kms.ErrUnavailable, ctx.Err())
	case <-p.closed:
		return fmt.Errorf("%w: pkcs11 provider closed", kms.ErrUnavailable)
	}
}

// check validates ref and the HSM's region.
func (p *Provider) check(ref kms.KeyRef) error {
	if ref.Provider != ProviderName {
		return fmt.Errorf("%w: provider %q is not %q", kms.ErrNotFound, ref.Provider, ProviderName)
	}
	if ref.KeyID == "" || len(ref.KeyID) > 255 {
		return fmt.Errorf("%w: invalid HSM key label %q", kms.ErrNotFound, ref.KeyID)
	}
	return kms.CheckRegion(ref, p.cfg.Region, p.cfg.OrgRegion)
}

func isRV(err error, rv uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == rv
}
