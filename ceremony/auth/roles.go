package auth

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Scopes.
const (
	ScopeKeyRead          = "key_management:read"
	ScopeKeyWrite         = "key_management:write"
	ScopePolicyRead       = "recording_policy:read"
	ScopePolicyWrite      = "recording_policy:write"
	ScopeAuditRead        = "audit:read"
	ScopeIngest           = "media:ingest"
	ScopePlayback         = "recording:playback"
	ScopeRecordingsRead   = "recording:read"
	ScopeApprovalsRead    = "approvals:read"
	ScopeApprovalsPropose = "approvals:propose"
	ScopeApprovalsApprove = "approvals:approve"
	ScopeApprovalsVeto    = "approvals:veto"
	ScopeMetricsRead      = "metrics:read"
	// ScopeLegalHold sets legal holds and proposes their release.
	ScopeLegalHold = "legal_hold"
)

// Roles.
const (
	RoleKeyAdmin          = "key_admin"
	RolePolicyAdmin       = "policy_admin"
	RoleAuditor           = "auditor"
	RoleMediaService      = "media_service"
	RolePlaybackRequester = "playback_requester"
	RoleApprover          = "approver"
	RoleMonitor           = "monitor"
	// RoleLegalOfficer places recordings under legal hold.
	RoleLegalOfficer = "legal_officer"
)

// roleScopes maps every role to its scopes.
var roleScopes = map[string][]string{
	RoleKeyAdmin: {ScopeKeyRead, ScopeKeyWrite, ScopeRecordingsRead,
		ScopeApprovalsRead, ScopeApprovalsPropose, ScopeApprovalsApprove, ScopeApprovalsVeto},
	RolePolicyAdmin: {ScopePolicyRead, ScopePolicyWrite, ScopeKeyRead, ScopeRecordingsRead,
		ScopeApprovalsRead, ScopeApprovalsPropose, ScopeApprovalsApprove},
	RoleAuditor: {ScopeAuditRead, ScopeKeyRead, ScopePolicyRead, ScopeRecordingsRead,
		ScopeApprovalsRead, ScopeApprovalsVeto, ScopeMetricsRead},
	RoleMediaService:      {ScopeIngest},
	RolePlaybackRequester: {ScopePlayback, ScopeRecordingsRead, ScopeApprovalsRead, ScopeApprovalsPropose},
	RoleApprover:          {ScopeApprovalsRead, ScopeApprovalsApprove},
	// RoleMonitor is for Prometheus scrapers: metrics and nothing else.
	RoleMonitor: {ScopeMetricsRead},
	RoleLegalOfficer: {ScopeLegalHold, ScopeRecordingsRead, ScopeApprovalsRead, ScopeApprovalsPropose,
		ScopeApprovalsApprove},
}

// conflicts are scope pairs no principal may hold together.
var conflicts = [][2]string{
	{ScopeKeyWrite, ScopePlayback},
	{ScopePolicyWrite, ScopeKeyWrite},
}

// ceremonyScopes are the scopes only service accounts may use.
var ceremonyScopes = map[string]bool{
	ScopeKeyWrite: true, ScopePolicyWrite: true, ScopePlayback: true,
	ScopeApprovalsPropose: true, ScopeApprovalsApprove: true, ScopeApprovalsVeto: true,
}

// IsCeremonyScope reports whether scope is one a personal session may
// never use.
func IsCeremonyScope(scope string) bool { return ceremonyScopes[scope] }

// Roles returns every role name, sorted.
func Roles() []string {
	out := make([]string, 0, len(roleScopes))
	for r := range roleScopes {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// ScopesOf returns the sorted union of the scopes of roles.
func ScopesOf(roles []string) ([]string, error) {
	set := map[string]bool{}
	for _, r := range roles {
		ss, ok := roleScopes[r]
		if !ok {
			return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownRole, r, strings.Join(Roles(), ", "))
		}
		for _, s := range ss {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// CheckSeparation refuses a role set that would give one principal
// conflicting scopes, naming the scopes and the roles that bring them.
func CheckSeparation(roles []string) error {
	scopes, err := ScopesOf(roles)
	if err != nil {
		return err
	}
	for _, c := range conflicts {
		if slices.Contains(scopes, c[0]) && slices.Contains(scopes, c[1]) {
			return fmt.Errorf("%w: %s (from %s) and %s (from %s) may not be held by one principal",
				ErrSeparationOfDuties, c[0], rolesWith(roles, c[0]), c[1], rolesWith(roles, c[1]))
		}
	}
	return nil
}

func rolesWith(roles []string, scope string) string {
	var out []string
	for _, r := range roles {
		if slices.Contains(roleScopes[r], scope) {
			out = append(out, r)
		}
	}
	return strings.Join(out, ", ")
}

// intersect returns the scopes of asked that allowed contains, sorted and
// without duplicates; an empty ask means everything allowed (RFC 6749 §3.3
// lets the server apply a default).
func intersect(asked, allowed []string) []string {
	if len(asked) == 0 {
		return append([]string(nil), allowed...)
	}
	set := map[string]bool{}
	for _, a := range asked {
		if slices.Contains(allowed, a) {
			set[a] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
