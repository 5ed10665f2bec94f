package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Recording types.
const (
	RecordingAudio         = "AUDIO"
	RecordingAudioAndVideo = "AUDIO_AND_VIDEO"
	RecordingNone          = "NONE"
)

// Statuses.
const (
	StatusEnabled  = "ENABLED"
	StatusDisabled = "DISABLED"
)

// Behaviours when the customer key cannot be obtained in time.
const (
	OnKeyUnavailablePlatformKey = "PLATFORM_KEY"
	OnKeyUnavailableFailClosed  = "FAIL_CLOSED"
)

// Directions.
const (
	DirectionInbound  = "INBOUND"
	DirectionOutbound = "OUTBOUND"
)

// TargetQueue is the only target type.
const TargetQueue = "QUEUE"

// Wildcard as a target id means every queue.
const Wildcard = "*"

// ProviderPlatform is the provider type of the platform keyring.
const ProviderPlatform = "PLATFORM"

// providerTypes are the key types a reference may name: those of the key
// registry. This package sits below the kms contract and cannot read its
// kinds; kms's tests check this list is kms.RegistryKinds' types
// (ProviderTypes).
var providerTypes = []string{ProviderPlatform, "AWS_KMS", "PKCS11", "VAULT"}

// ProviderTypes returns the key types a policy's key reference may name.
func ProviderTypes() []string { return slices.Clone(providerTypes) }

// KeyReference names a registered key (see the keys registry) and its provider type.
type KeyReference struct {
	KeyID        string `json:"keyId" yaml:"keyId"`
	ProviderType string `json:"providerType" yaml:"providerType"`
}

// TimeWindow limits a policy to a daily span of wall-clock time.
type TimeWindow struct {
	// Start and End are "HH:MM" in Timezone; End before Start spans midnight.
	Start    string   `json:"start" yaml:"start"`
	End      string   `json:"end" yaml:"end"`
	Timezone string   `json:"timezone,omitempty" yaml:"timezone,omitempty"`
	Days     []string `json:"days,omitempty" yaml:"days,omitempty"` // MON..SUN, empty = every day
}

// Conditions narrow which calls of the targeted queues a policy records.
type Conditions struct {
	Direction       string      `json:"direction,omitempty" yaml:"direction,omitempty"`
	CallerIDPattern *string     `json:"callerIdPattern" yaml:"callerIdPattern"`
	TimeWindow      *TimeWindow `json:"timeWindow" yaml:"timeWindow"`
}

// Policy is one recording policy.
type Policy struct {
	ID                     string        `json:"id,omitempty" yaml:"id"`
	Version                int64         `json:"version,omitempty" yaml:"version,omitempty"`
	Name                   string        `json:"name" yaml:"name"`
	Description            string        `json:"description,omitempty" yaml:"description,omitempty"`
	RecordingType          string        `json:"recordingType" yaml:"recordingType"`
	EncryptionKeyReference *KeyReference `json:"encryptionKeyReference,omitempty" yaml:"encryptionKeyReference,omitempty"`
	TargetType             string        `json:"targetType" yaml:"targetType"`
	TargetIDs              []string      `json:"targetIds" yaml:"targetIds"`
	Status                 string        `json:"status" yaml:"status"`
	Conditions             Conditions    `json:"conditions" yaml:"conditions"`
	OnKeyUnavailable       string        `json:"onKeyUnavailable,omitempty" yaml:"onKeyUnavailable,omitempty"`
	AllowGlobalCustomerKey bool          `json:"allowGlobalCustomerKey,omitempty" yaml:"allowGlobalCustomerKey,omitempty"`
	RedactDTMF             bool          `json:"redactDtmf,omitempty" yaml:"redactDtmf,omitempty"`
	// RequireSRTP: a call this policy records must carry every track as
	// SRTP; one with a plain RTP track is refused (409, SIPREC 488).
	RequireSRTP bool `json:"requireSrtp,omitempty" yaml:"requireSrtp,omitempty"`
	// RetentionDays is how long a recording made under this policy is kept;
	// 0 takes the organisation's default (see RetainUntil).
	RetentionDays int `json:"retentionDays,omitempty" yaml:"retentionDays,omitempty"`
}

// FieldError names the field of a policy that is invalid and why.
type FieldError struct {
	Field string
	Value any
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("policy field %s: %s (got %v)", e.Field, e.Msg, e.Value)
}

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	clockFormat = "15:04"
	weekdays    = map[string]time.Weekday{"SUN": time.Sunday, "MON": time.Monday, "TUE": time.Tuesday,
		"WED": time.Wednesday, "THU": time.Thursday, "FRI": time.Friday, "SAT": time.Saturday}
)

// labelsCustomerKey reports whether the reference's label is not the
// platform's. The label alone never decides whether a key is a customer
// key (a local-keyring customer key is labelled PLATFORM too): ResolveKey
// does, against the registry. Validate uses it only for a first check
// that needs no registry; the API repeats it on the resolved key.
func (p *Policy) labelsCustomerKey() bool {
	return p.EncryptionKeyReference != nil && p.EncryptionKeyReference.ProviderType != ProviderPlatform
}

// IsGlobal reports whether the policy targets every queue.
func (p *Policy) IsGlobal() bool {
	if len(p.TargetIDs) == 0 {
		return true
	}
	for _, id := range p.TargetIDs {
		if id == Wildcard {
			return true
		}
	}
	return false
}

// Normalize fills defaults: status ENABLED, targetType QUEUE, onKeyUnavailable PLATFORM_KEY.
func (p *Policy) Normalize() {
	if p.Status == "" {
		p.Status = StatusEnabled
	}
	if p.TargetType == "" {
		p.TargetType = TargetQueue
	}
	if p.OnKeyUnavailable == "" {
		p.OnKeyUnavailable = OnKeyUnavailablePlatformKey
	}
}

// Validate checks every field and returns the first problem as a *FieldError.
func (p *Policy) Validate() error {
	if p.ID != "" && !idPattern.MatchString(p.ID) {
		return &FieldError{"id", p.ID, "must be 1-128 characters of letters, digits, . _ : -"}
	}
	if strings.TrimSpace(p.Name) == "" || len(p.Name) > 200 {
		return &FieldError{"name", p.Name, "must be 1-200 characters"}
	}
	switch p.RecordingType {
	case RecordingAudio, RecordingAudioAndVideo, RecordingNone:
	default:
		return &FieldError{"recordingType", p.RecordingType, "must be AUDIO, AUDIO_AND_VIDEO or NONE"}
	}
	if p.TargetType != TargetQueue {
		return &FieldError{"targetType", p.TargetType, `must be "QUEUE"`}
	}
	for i, id := range p.TargetIDs {
		if id != Wildcard && !idPattern.MatchString(id) {
			return &FieldError{fmt.Sprintf("targetIds[%d]", i), id, "must be a queue id or \"*\""}
		}
	}
	switch p.Status {
	case StatusEnabled, StatusDisabled:
	default:
		return &FieldError{"status", p.Status, "must be ENABLED or DISABLED"}
	}
	switch p.OnKeyUnavailable {
	case OnKeyUnavailablePlatformKey, OnKeyUnavailableFailClosed:
	default:
		return &FieldError{"onKeyUnavailable", p.OnKeyUnavailable, "must be PLATFORM_KEY or FAIL_CLOSED"}
	}
	if ref := p.EncryptionKeyReference; ref != nil {
		if !idPattern.MatchString(ref.KeyID) {
			return &FieldError{"encryptionKeyReference.keyId", ref.KeyID, "must be a registered key id"}
		}
		if !slices.Contains(providerTypes, ref.ProviderType) {
			return &FieldError{"encryptionKeyReference.providerType", ref.ProviderType,
				"must be " + strings.Join(providerTypes[:len(providerTypes)-1], ", ") + " or " + providerTypes[len(providerTypes)-1]}
		}
	}
	if p.RecordingType != RecordingNone && p.labelsCustomerKey() && p.IsGlobal() && !p.AllowGlobalCustomerKey {
		return &FieldError{"targetIds", p.TargetIDs,
			"a customer-managed key on every queue widens the blast radius of a KMS outage; name the queues or set allowGlobalCustomerKey: true"}
	}
	if p.RetentionDays < 0 || p.RetentionDays > MaxRetentionDays {
		return &FieldError{"retentionDays", p.RetentionDays, fmt.Sprintf("must be 0 (organisation default) to %d", MaxRetentionDays)}
	}
	return p.Conditions.validate()
}

func (c *Conditions) validate() error {
	switch c.Direction {
	case "", DirectionInbound, DirectionOutbound:
	default:
		return &FieldError{"conditions.direction", c.Direction, "must be INBOUND or OUTBOUND"}
	}
	if c.CallerIDPattern != nil {
		if _, err := regexp.Compile(*c.CallerIDPattern); err != nil || len(*c.CallerIDPattern) > 256 {
			return &FieldError{"conditions.callerIdPattern", *c.CallerIDPattern, "must be a regular expression of at most 256 characters"}
		}
	}
	if w := c.TimeWindow; w != nil {
		if _, err := time.Parse(clockFormat, w.Start); err != nil {
			return &FieldError{"conditions.timeWindow.start", w.Start, "must be HH:MM"}
		}
		if _, err := time.Parse(clockFormat, w.End); err != nil {
			return &FieldError{"conditions.timeWindow.end", w.End, "must be HH:MM"}
		}
		if w.Timezone != "" {
			if _, err := time.LoadLocation(w.Timezone); err != nil {
				return &FieldError{"conditions.timeWindow.timezone", w.Timezone, "must be an IANA time zone"}
			}
		}
		for i, d := range w.Days {
			if _, ok := weekdays[d]; !ok {
				return &FieldError{fmt.Sprintf("conditions.timeWindow.days[%d]", i), d, "must be one of MON TUE WED THU FRI SAT SUN"}
			}
		}
	}
	return nil
}
