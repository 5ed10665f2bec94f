package policy

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// propRegistry: two bound customer keys (one labelled PLATFORM, a local
// keyring key), one unbound, one disabled, and an alias of the platform key.
var propRegistry = map[string]RegisteredKey{
	"ck-aws":      {ID: "ck-aws", ProviderType: "AWS_KMS", ProviderKeyID: "arn:1", Bound: true, Enabled: true},
	"ck-local":    {ID: "ck-local", ProviderType: ProviderPlatform, ProviderKeyID: "cust", Bound: true, Enabled: true},
	"ck-unbound":  {ID: "ck-unbound", ProviderType: "AWS_KMS", ProviderKeyID: "arn:2", Enabled: true},
	"ck-disabled": {ID: "ck-disabled", ProviderType: ProviderPlatform, ProviderKeyID: "old", Bound: true},
	"plat-alias":  {ID: "plat-alias", ProviderType: ProviderPlatform, ProviderKeyID: "platform", Bound: true, Enabled: true},
}

var propRefs = []*KeyReference{nil, {KeyID: "platform", ProviderType: ProviderPlatform},
	{KeyID: "plat-alias", ProviderType: ProviderPlatform}, {KeyID: "ck-aws", ProviderType: "AWS_KMS"},
	{KeyID: "ck-local", ProviderType: ProviderPlatform}, {KeyID: "ck-unbound", ProviderType: "AWS_KMS"},
	{KeyID: "ck-disabled", ProviderType: ProviderPlatform}, {KeyID: "ck-aws", ProviderType: ProviderPlatform}}

func propOutcome(p *Policy) Outcome {
	rk, err := ResolveKey(p.EncryptionKeyReference, "platform", func(id string) (RegisteredKey, bool, error) {
		k, ok := propRegistry[id]
		return k, ok, nil
	})
	return OutcomeOf(p, rk, err)
}

func randPolicy(rng *rand.Rand, id string) Policy {
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	p := Policy{ID: id, Name: id, RecordingType: pick(RecordingAudio, RecordingAudioAndVideo, RecordingNone),
		EncryptionKeyReference: propRefs[rng.Intn(len(propRefs))], Status: pick(StatusEnabled, StatusEnabled, StatusDisabled),
		OnKeyUnavailable: pick(OnKeyUnavailableFailClosed, OnKeyUnavailablePlatformKey), AllowGlobalCustomerKey: true}
	switch rng.Intn(4) {
	case 0:
		p.TargetIDs = []string{Wildcard}
	case 1:
		p.TargetIDs = []string{pick("q1", "q2", "q3")}
	default:
		p.TargetIDs = []string{pick("q1", "q2"), pick("q2", "q3")}
	}
	if rng.Intn(3) == 0 {
		p.Conditions.Direction = pick(DirectionInbound, DirectionOutbound)
	}
	if rng.Intn(4) == 0 {
		pat := `^\+44`
		p.Conditions.CallerIDPattern = &pat
	}
	if rng.Intn(4) == 0 {
		p.Conditions.TimeWindow = &TimeWindow{Start: "09:00", End: "17:00", Days: []string{"MON", "TUE", "WED", "THU", "FRI"}}
	}
	p.Normalize()
	return p
}

// sampleCalls covers every combination the random conditions distinguish.
func sampleCalls() []Call {
	var calls []Call
	for _, q := range []string{"q1", "q2", "q3", "q-unnamed"} {
		for _, d := range []string{DirectionInbound, DirectionOutbound} {
			for _, c := range []string{"+447700900000", "+15555550100"} {
				for _, at := range []time.Time{time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC),
					time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)} {
					calls = append(calls, Call{QueueID: q, Direction: d, CallerID: c, At: at})
				}
			}
		}
	}
	return calls
}

// TestCustomerKeyEffectProperty: whenever CustomerKeyEffect finds no
// queue to gate, no sample call's customer-key outcome changes, checked
// with the real matcher (Set.Match) call by call.
func TestCustomerKeyEffectProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	calls := sampleCalls()
	gated, ungated := 0, 0
	for n := 0; n < 4000; n++ {
		var before []Policy
		for i := 0; i < 1+rng.Intn(5); i++ {
			before = append(before, randPolicy(rng, fmt.Sprintf("p%d", i)))
		}
		after := append([]Policy(nil), before...)
		change := ""
		switch k := rng.Intn(len(before) + 2); {
		case k < len(before) && rng.Intn(2) == 0:
			change = "delete " + after[k].ID
			after = append(after[:k], after[k+1:]...)
		case k < len(before):
			change = "update " + after[k].ID
			after[k] = randPolicy(rng, after[k].ID)
		default:
			change = "create"
			after = append(after, randPolicy(rng, fmt.Sprintf("p%d", len(before)+rng.Intn(3))))
		}
		a, err := NewSet(before)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewSet(after)
		if err != nil {
			continue // a duplicate id: the API refuses it
		}
		if len(CustomerKeyEffect(a, b, propOutcome)) > 0 {
			gated++
			continue
		}
		ungated++
		for _, c := range calls {
			oa, ob := callOutcome(a, c), callOutcome(b, c)
			if oa != ob && (oa.IsCustomer() || ob.IsCustomer()) {
				t.Fatalf("case %d: %s was not gated but call %+v went from %+v to %+v\nbefore %+v\nafter %+v", n, change, c, oa, ob, before, after)
			}
		}
	}
	if gated < 500 || ungated < 500 {
		t.Fatalf("the random cases do not exercise both sides: %d gated, %d ungated", gated, ungated)
	}
}

func callOutcome(s *Set, c Call) Outcome {
	d := s.Match(c)
	if !d.Record {
		return Outcome{}
	}
	return propOutcome(d.Policy)
}
