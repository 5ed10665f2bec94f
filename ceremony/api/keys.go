package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// EncryptionType is the only media encryption mediaseal performs.
const EncryptionType = "AES-256-GCM"

// Rotation period bounds (days) and the default when autoRotate is set
// without a period.
const (
	MinRotationDays     = 1
	MaxRotationDays     = 3650
	DefaultRotationDays = 90
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// registerKeyRequest is the reference guide's POST /api/v2/keys payload.
// Fields that would carry key material exist only to be refused by name.
type registerKeyRequest struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	KeyType            string `json:"keyType"`
	ProviderType       string `json:"providerType"`
	Region             string `json:"region"`
	ARN                string `json:"arn"`
	Label              string `json:"label"`
	KeyState           string `json:"keyState"`
	Description        string `json:"description"`
	AutoRotate         *bool  `json:"autoRotate"`
	RotationPeriodDays *int   `json:"rotationPeriodDays"`

	KeyMaterial json.RawMessage `json:"keyMaterial"`
	PrivateKey  json.RawMessage `json:"privateKey"`
	Plaintext   json.RawMessage `json:"plaintext"`
}

// bindKeyRequest is the reference guide's POST /api/v2/keys/{keyId} payload.
type bindKeyRequest struct {
	Name               string           `json:"name"`
	EncryptionType     string           `json:"encryptionType"`
	KeyProvider        *bindKeyProvider `json:"keyProvider"`
	AutoRotate         *bool            `json:"autoRotate"`
	RotationPeriodDays *int             `json:"rotationPeriodDays"`
	Status             string           `json:"status"`
}

type bindKeyProvider struct {
	ProviderType string `json:"providerType"`
	Region       string `json:"region"`
	KeyArn       string `json:"keyArn"`
	KeyLabel     string `json:"keyLabel"`
}

type rotationRequest struct {
	AutoRotate         *bool `json:"autoRotate"`
	RotationPeriodDays *int  `json:"rotationPeriodDays"`
}

// keyJSON is the metadata view of a key: never material.
type keyJSON struct {
	ID                 string      `json:"id"`
	Name               string      `json:"name"`
	KeyType            string      `json:"keyType"`
	Region             string      `json:"region"`
	ARN                string      `json:"arn,omitempty"`
	Label              string      `json:"label,omitempty"`
	KeyState           string      `json:"keyState"`
	Description        string      `json:"description"`
	EncryptionType     string      `json:"encryptionType"`
	AutoRotate         bool        `json:"autoRotate"`
	RotationPeriodDays int         `json:"rotationPeriodDays"`
	Binding            bindingJSON `json:"binding"`
	Version            int64       `json:"version"`
	CreatedAt          time.Time   `json:"createdAt"`
	UpdatedAt          time.Time   `json:"updatedAt"`
}

type bindingJSON struct {
	Status         string     `json:"status"` // UNBOUND, BOUND, FAILED
	CheckedAt      *time.Time `json:"checkedAt,omitempty"`
	BoundAt        *time.Time `json:"boundAt,omitempty"`
	KMSState       string     `json:"kmsState,omitempty"`
	KMSRegion      string     `json:"kmsRegion,omitempty"`
	CurrentVersion string     `json:"currentVersion,omitempty"`
	Error          string     `json:"error,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toKeyJSON(k store.Key) keyJSON {
	out := keyJSON{ID: k.ID, Name: k.Name, KeyType: k.KeyType, Region: k.Region, KeyState: k.State,
		Description: k.Description, EncryptionType: EncryptionType, AutoRotate: k.Rotation.AutoRotate,
		RotationPeriodDays: k.Rotation.PeriodDays, Version: k.Version, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
		Binding: bindingJSON{Status: k.Binding.Status, CheckedAt: timePtr(k.Binding.CheckedAt), BoundAt: timePtr(k.Binding.BoundAt),
			KMSState: k.Binding.KMSState, KMSRegion: k.Binding.KMSRegion, CurrentVersion: k.Binding.KMSVersion, Error: k.Binding.Error}}
	if out.Binding.Status == store.BindingNone {
		out.Binding.Status = "UNBOUND"
	}
	if k.KeyType == kms.KindAWS.Type {
		out.ARN = k.Ref
	} else {
		out.Label = k.Ref
	}
	return out
}

// arnRegion returns the region of an AWS KMS key or alias ARN
// (arn:PARTITION:kms:REGION:ACCOUNT:key/ID).
func arnRegion(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[3] == "" || parts[4] == "" ||
		!(strings.HasPrefix(parts[5], "key/") || strings.HasPrefix(parts[5], "alias/")) || len(parts[5]) < 5 {
		return "", false
	}
	return parts[3], true
}

func (s *server) registerKey(w http.ResponseWriter, r *http.Request) error {
	var req registerKeyRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	for field, v := range map[string]json.RawMessage{"keyMaterial": req.KeyMaterial, "privateKey": req.PrivateKey, "plaintext": req.Plaintext} {
		if v != nil {
			return fieldError(field, "key material is never imported: the key stays in its KMS or HSM; register it by ARN or label")
		}
	}
	k, err := s.validateRegistration(req)
	if err != nil {
		return err
	}
	k, err = s.deps.Store.CreateKey(r.Context(), k)
	if errors.Is(err, store.ErrDuplicate) {
		return errorf(http.StatusConflict, CodeConflict, "a key with id %q or name %q exists", req.ID, req.Name)
	}
	if err != nil {
		return err
	}
	s.audit(r, "key registered", zap.String("key", k.ID), zap.String("keyType", k.KeyType), zap.String("region", k.Region))
	w.Header().Set("Location", "/api/v2/keys/"+k.ID)
	writeJSON(w, http.StatusCreated, toKeyJSON(k))
	return nil
}

func (s *server) validateRegistration(req registerKeyRequest) (store.Key, error) {
	if req.ID != "" && !keyIDPattern.MatchString(req.ID) {
		return store.Key{}, fieldError("id", "must be 1-128 characters of letters, digits, . _ : - (got %q)", req.ID)
	}
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 200 {
		return store.Key{}, fieldError("name", "must be 1-200 characters")
	}
	kt := req.KeyType
	if kt == "" {
		kt = req.ProviderType
	} else if req.ProviderType != "" && req.ProviderType != kt {
		return store.Key{}, fieldError("providerType", "differs from keyType %s (got %s)", kt, req.ProviderType)
	}
	// The key types are the kms contract's kinds (VAULT included: it can
	// be registered, though no adapter serves it).
	if _, ok := kms.KindOfType(kt); !ok {
		return store.Key{}, fieldError("keyType", "must be %s (got %q)", kms.Types(kms.RegistryKinds()), kt)
	}
	if len(req.Description) > 1000 {
		return store.Key{}, fieldError("description", "must be at most 1000 characters")
	}
	state := req.KeyState
	if state == "" {
		state = string(kms.StateEnabled)
	}
	if state != string(kms.StateEnabled) && state != string(kms.StateDisabled) {
		return store.Key{}, fieldError("keyState", "must be ENABLED or DISABLED (got %q)", state)
	}
	k := store.Key{ID: req.ID, Name: req.Name, KeyType: kt, Region: req.Region, Description: req.Description, State: state}
	if kt == kms.KindAWS.Type { // AWS names its keys by ARN, the others by label
		if req.Label != "" {
			return store.Key{}, fieldError("label", "an AWS_KMS key is named by arn, not label")
		}
		region, ok := arnRegion(req.ARN)
		if !ok {
			return store.Key{}, fieldError("arn", "must be an AWS KMS key ARN such as arn:aws:kms:REGION:ACCOUNT:key/ID (got %q)", req.ARN)
		}
		if req.Region != "" && req.Region != region {
			return store.Key{}, fieldError("region", "region %s differs from the ARN's region %s", req.Region, region)
		}
		k.Region, k.Ref = region, req.ARN
	} else {
		if req.ARN != "" {
			return store.Key{}, fieldError("arn", "only AWS_KMS keys have an ARN; name a %s key by label", kt)
		}
		if !keyIDPattern.MatchString(req.Label) {
			return store.Key{}, fieldError("label", "must be the provider's key label (1-128 characters of letters, digits, . _ : -; got %q)", req.Label)
		}
		k.Ref = req.Label
	}
	if org := s.deps.OrgRegion; org != "" {
		if k.Region == "" {
			return store.Key{}, fieldError("region", "is required: the organisation's keys must be in region %s", org)
		}
		if k.Region != org {
			// The reference guide: a cross-region import is a 400.
			return store.Key{}, &Error{Status: http.StatusBadRequest, Code: CodeRegionMismatch, Field: "region",
				Message: fmt.Sprintf("key region %s does not match organisation region %s; create the key in %s", k.Region, org, org)}
		}
	}
	rot, err := rotationFrom(store.Rotation{}, req.AutoRotate, req.RotationPeriodDays)
	if err != nil {
		return store.Key{}, err
	}
	k.Rotation = rot
	return k, nil
}

// rotationFrom applies the optional rotation fields to cur.
func rotationFrom(cur store.Rotation, auto *bool, days *int) (store.Rotation, error) {
	if auto != nil {
		cur.AutoRotate = *auto
	}
	if days != nil {
		if *days < MinRotationDays || *days > MaxRotationDays {
			return cur, fieldError("rotationPeriodDays", "must be %d-%d (got %d)", MinRotationDays, MaxRotationDays, *days)
		}
		cur.PeriodDays = *days
	}
	if cur.AutoRotate && cur.PeriodDays == 0 {
		cur.PeriodDays = DefaultRotationDays
	}
	return cur, nil
}

func (s *server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.deps.Store.ListKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]keyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, toKeyJSON(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": out, "total": len(out)})
	return nil
}

func (s *server) getKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.key(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toKeyJSON(k))
	return nil
}

func (s *server) key(r *http.Request) (store.Key, error) {
	id := r.PathValue("keyId")
	k, err := s.deps.Store.GetKey(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Key{}, errorf(http.StatusNotFound, CodeNotFound, "key %q not found", id)
	}
	return k, err
}

func (s *server) updateRotation(w http.ResponseWriter, r *http.Request) error {
	k, err := s.key(r)
	if err != nil {
		return err
	}
	var req rotationRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	rot, err := rotationFrom(k.Rotation, req.AutoRotate, req.RotationPeriodDays)
	if err != nil {
		return err
	}
	k, err = s.deps.Store.UpdateKeyRotation(r.Context(), k.ID, rot)
	if err != nil {
		return err
	}
	s.audit(r, "key rotation changed", zap.String("key", k.ID), zap.Bool("autoRotate", rot.AutoRotate), zap.Int("days", rot.PeriodDays))
	writeJSON(w, http.StatusOK, toKeyJSON(k))
	return nil
}

// bindKey is the validation handshake: the body (optional) must agree with
// the registered reference, the provider's Describe must find the key
// ENABLED in the organisation's region, and the result is recorded either
// way.
func (s *server) bindKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.key(r)
	if err != nil {
		return err
	}
	var req bindKeyRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	if err := s.checkBindRequest(k, req); err != nil {
		return err
	}
	rot, err := rotationFrom(k.Rotation, req.AutoRotate, req.RotationPeriodDays)
	if err != nil {
		return err
	}
	if k.State != string(kms.StateEnabled) {
		return errorf(http.StatusConflict, CodeKeyState, "key %q is registered as %s; only ENABLED keys can be bound", k.ID, k.State)
	}
	prov, name, ok := s.deps.KMS.Provider(k.KeyType)
	if !ok {
		return fieldError("keyProvider.providerType", "no %s provider is configured on this gateway", k.KeyType)
	}
	ref := kms.KeyRef{Provider: name, KeyID: k.Ref}
	ctx, cancel := context.WithTimeout(r.Context(), s.deps.DescribeTimeout)
	info, derr := prov.Describe(ctx, ref)
	cancel()

	b, herr := s.judgeHandshake(k, ref, info, derr)
	if herr == nil {
		herr = s.enableProviderRotation(r.Context(), prov, ref, rot)
	}
	if herr != nil {
		b.Status, b.Error = store.BindingFailed, herr.Message
	}
	updated, err := s.deps.Store.UpdateKeyBinding(r.Context(), k.ID, b)
	if err != nil {
		return err
	}
	if herr != nil {
		s.audit(r, "key bind refused", zap.String("key", k.ID), zap.String("reason", herr.Message))
		return herr
	}
	if rot != k.Rotation {
		if updated, err = s.deps.Store.UpdateKeyRotation(r.Context(), k.ID, rot); err != nil {
			return err
		}
	}
	s.audit(r, "key bound", zap.String("key", k.ID), zap.String("kmsVersion", b.KMSVersion), zap.String("region", b.KMSRegion))
	writeJSON(w, http.StatusOK, toKeyJSON(updated))
	return nil
}

// checkBindRequest refuses a bind body that disagrees with the registered
// key; a region other than the organisation's is a 403 as in the guide.
func (s *server) checkBindRequest(k store.Key, req bindKeyRequest) *Error {
	if req.Name != "" && req.Name != k.Name {
		return fieldError("name", "%q differs from the registered name %q", req.Name, k.Name)
	}
	if req.EncryptionType != "" && req.EncryptionType != EncryptionType {
		return fieldError("encryptionType", "must be %s (got %q)", EncryptionType, req.EncryptionType)
	}
	if req.Status != "" && req.Status != "ACTIVE" {
		return fieldError("status", "must be ACTIVE (got %q)", req.Status)
	}
	p := req.KeyProvider
	if p == nil {
		return nil
	}
	if p.ProviderType != "" && p.ProviderType != k.KeyType {
		return fieldError("keyProvider.providerType", "%s differs from the registered keyType %s", p.ProviderType, k.KeyType)
	}
	ref := p.KeyArn
	field := "keyProvider.keyArn"
	if ref == "" {
		ref, field = p.KeyLabel, "keyProvider.keyLabel"
	}
	if ref != "" && ref != k.Ref {
		return fieldError(field, "%q differs from the registered reference %q", ref, k.Ref)
	}
	region := p.Region
	if region == "" && p.KeyArn != "" {
		region, _ = arnRegion(p.KeyArn)
	}
	if org := s.deps.OrgRegion; org != "" && region != "" && region != org {
		return &Error{Status: http.StatusForbidden, Code: CodeRegionMismatch, Field: "keyProvider.region",
			Message: fmt.Sprintf("key region %s does not match organisation region %s", region, org)}
	}
	if region != "" && k.Region != "" && region != k.Region {
		return fieldError("keyProvider.region", "%s differs from the registered region %s", region, k.Region)
	}
	return nil
}

// judgeHandshake turns a Describe result into a binding, or the error the
// client gets (recorded as a failed binding).
func (s *server) judgeHandshake(k store.Key, ref kms.KeyRef, info *kms.KeyInfo, err error) (store.Binding, *Error) {
	var b store.Binding
	if err != nil {
		switch {
		case errors.Is(err, kms.ErrRegionMismatch):
			return b, &Error{Status: http.StatusForbidden, Code: CodeRegionMismatch, Message: err.Error()}
		case errors.Is(err, kms.ErrAccessDenied):
			return b, errorf(http.StatusForbidden, CodeForbidden, "the KMS refused access to %s: %v", ref, err)
		case errors.Is(err, kms.ErrNotFound):
			return b, fieldError("arn", "the KMS does not know %s", ref)
		case errors.Is(err, kms.ErrDisabled):
			return b, errorf(http.StatusConflict, CodeKeyState, "key %s is disabled in the KMS", ref)
		default:
			return b, errorf(http.StatusServiceUnavailable, CodeKMSUnavailable, "the KMS did not answer the handshake: %v", err)
		}
	}
	b = store.Binding{Status: store.BindingBound, KMSState: string(info.State), KMSRegion: info.Region, KMSVersion: info.CurrentVersion}
	if err := kms.CheckRegion(ref, info.Region, s.deps.OrgRegion); err != nil {
		return b, &Error{Status: http.StatusForbidden, Code: CodeRegionMismatch, Message: fmt.Sprintf(
			"key region %s does not match organisation region %s (%v)", orUnknown(info.Region), s.deps.OrgRegion, err)}
	}
	if info.State != kms.StateEnabled {
		return b, errorf(http.StatusConflict, CodeKeyState, "key %s is %s in the KMS; only ENABLED keys can be bound", ref, info.State)
	}
	return b, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
