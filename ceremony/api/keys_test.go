package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
)

// The reference guide's key import payload, moved to the org's region.
const awsKey = `{
  "name": "RecordingEncryptionCMK_01",
  "keyType": "AWS_KMS",
  "region": "eu-west-2",
  "arn": "arn:aws:kms:eu-west-2:123456789012:key/abcd1234-a123-456a-8b12-cd1234ef5678",
  "keyState": "ENABLED",
  "description": "Primary key for PCI-DSS compliant call recording encryption"
}`

func platformKey(id, label string) string {
	return fmt.Sprintf(`{"id": %q, "name": "platform %s", "keyType": "PLATFORM", "region": "eu-west-2", "label": %q}`, id, id, label)
}

func TestKeysRegisterAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{})
		const K = "/api/v2/keys"
		e.run([]apiCase{
			{name: "register (reference payload)", method: "POST", path: K, body: awsKey, status: 201,
				contains: []string{`"keyType": "AWS_KMS"`, `"region": "eu-west-2"`, `"status": "UNBOUND"`, `"arn": "arn:aws:kms:eu-west-2`}},
			{name: "duplicate name", method: "POST", path: K, body: awsKey, status: 409, code: api.CodeConflict},
			{name: "cross-region import", method: "POST", path: K,
				body:   strings.ReplaceAll(strings.ReplaceAll(awsKey, "eu-west-2", "us-east-1"), "CMK_01", "CMK_02"),
				status: 400, code: api.CodeRegionMismatch, field: "region", contains: []string{"us-east-1", "eu-west-2"}},
			{name: "region field contradicts ARN", method: "POST", path: K, body: strings.Replace(awsKey, `"region": "eu-west-2"`, `"region": "us-west-2"`, 1),
				status: 400, field: "region", contains: []string{"us-west-2", "eu-west-2"}},
			{name: "trap: exporting key material", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"keyMaterial": "AAECAw==", "name"`, 1),
				status: 400, field: "keyMaterial", contains: []string{"never imported"}},
			{name: "trap: private key", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"privateKey": {"d": "x"}, "name"`, 1),
				status: 400, field: "privateKey"},
			{name: "bad ARN", method: "POST", path: K, body: strings.Replace(awsKey, "arn:aws:kms:", "arn:aws:s3:", 1), status: 400, field: "arn"},
			{name: "label on AWS key", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"label": "x", "name"`, 1), status: 400, field: "label"},
			{name: "ARN on HSM key", method: "POST", path: K, body: strings.Replace(awsKey, `"AWS_KMS"`, `"PKCS11"`, 1), status: 400, field: "arn"},
			{name: "unknown keyType", method: "POST", path: K, body: strings.Replace(awsKey, `"AWS_KMS"`, `"AZURE"`, 1), status: 400, field: "keyType",
				contains: []string{`\"AZURE\"`, "PLATFORM, AWS_KMS, PKCS11 or VAULT"}},
			{name: "provider name is no keyType", method: "POST", path: K, body: strings.Replace(awsKey, `"AWS_KMS"`, `"aws-kms"`, 1), status: 400, field: "keyType",
				contains: []string{`\"aws-kms\"`}},
			{name: "providerType alias disagrees", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"providerType": "VAULT", "name"`, 1), status: 400, field: "providerType"},
			{name: "missing name", method: "POST", path: K, body: strings.Replace(awsKey, `"RecordingEncryptionCMK_01"`, `""`, 1), status: 400, field: "name"},
			{name: "bad keyState", method: "POST", path: K, body: strings.Replace(awsKey, `"ENABLED"`, `"ON"`, 1), status: 400, field: "keyState"},
			{name: "bad id", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"id": "../x", "name"`, 1), status: 400, field: "id"},
			{name: "wrong type", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"autoRotate": "yes", "name"`, 1), status: 400, field: "autoRotate",
				contains: []string{"want boolean"}},
			{name: "rotation period out of range", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"rotationPeriodDays": 0, "name"`, 1), status: 400,
				field: "rotationPeriodDays"},
			{name: "unknown field", method: "POST", path: K, body: strings.Replace(awsKey, `"name"`, `"keyArn": "x", "name"`, 1), status: 400, code: api.CodeUnknownField, field: "keyArn"},
			{name: "bad JSON", method: "POST", path: K, body: `{"name":`, status: 400, code: api.CodeMalformedJSON},
			{name: "oversized", method: "POST", path: K, body: `{"description": "` + strings.Repeat("y", 5000) + `"}`, status: 413},
			{name: "HSM key by label", method: "POST", path: K, body: platformKey("hsm-1", "pci-kek"), status: 201, contains: []string{`"label": "pci-kek"`}},
			{name: "label required", method: "POST", path: K, body: platformKey("hsm-2", ""), status: 400, field: "label"},
			{name: "list", method: "GET", path: K, status: 200, contains: []string{`"total": 2`}},
			{name: "get", method: "GET", path: K + "/hsm-1", status: 200, contains: []string{`"name": "platform hsm-1"`}},
			{name: "get missing", method: "GET", path: K + "/nope", status: 404, code: api.CodeNotFound},
			{name: "rotation", method: "PUT", path: K + "/hsm-1/rotation", body: `{"autoRotate": true}`, status: 200,
				contains: []string{`"autoRotate": true`, `"rotationPeriodDays": 90`}},
			{name: "rotation period", method: "PUT", path: K + "/hsm-1/rotation", body: `{"rotationPeriodDays": 30}`, status: 200,
				contains: []string{`"autoRotate": true`, `"rotationPeriodDays": 30`}},
			{name: "rotation bad period", method: "PUT", path: K + "/hsm-1/rotation", body: `{"rotationPeriodDays": 99999}`, status: 400, field: "rotationPeriodDays"},
			{name: "rotation wrong type", method: "PUT", path: K + "/hsm-1/rotation", body: `{"rotationPeriodDays": "90"}`, status: 400, field: "rotationPeriodDays"},
			{name: "rotation missing key", method: "PUT", path: K + "/nope/rotation", body: `{"autoRotate": true}`, status: 404},
		})
		// Metadata only: nothing that looks like key material in any reply.
		for _, path := range []string{K, K + "/hsm-1"} {
			r := e.do("GET", path, "")
			for _, bad := range []string{"keyMaterial", "plaintext", "wrapped", "privateKey"} {
				if strings.Contains(strings.ToLower(r.raw), strings.ToLower(bad)) {
					t.Errorf("GET %s mentions %s:\n%s", path, bad, r.raw)
				}
			}
		}
	})
}

// The bind handshake against the platform keyring (a real provider):
// state and region checks, and the result recorded either way.
func TestKeysBindAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{})
		for _, id := range []string{"kek-ok", "kek-disabled"} {
			if err := e.keyring.EnsureKey(id); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.keyring.SetDisabled("kek-disabled", true); err != nil {
			t.Fatal(err)
		}
		const K = "/api/v2/keys"
		for _, body := range []string{platformKey("ok", "kek-ok"), platformKey("disabled", "kek-disabled"), platformKey("ghost", "kek-ghost"),
			`{"id": "vault", "name": "vault", "keyType": "VAULT", "region": "eu-west-2", "label": "transit-1"}`,
			`{"id": "off", "name": "off", "keyType": "PLATFORM", "region": "eu-west-2", "label": "kek-ok", "keyState": "DISABLED"}`} {
			if r := e.do("POST", K, body); r.status != 201 {
				t.Fatalf("register: %d %s", r.status, r.raw)
			}
		}
		bind := `{"name": "platform ok", "encryptionType": "AES-256-GCM",
			"keyProvider": {"providerType": "PLATFORM", "region": "eu-west-2", "keyLabel": "kek-ok"},
			"autoRotate": true, "rotationPeriodDays": 90, "status": "ACTIVE"}`
		e.run([]apiCase{
			{name: "bind region mismatch", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"region": "eu-west-2"`, `"region": "us-east-1"`, 1),
				status: 403, code: api.CodeRegionMismatch, contains: []string{"us-east-1", "eu-west-2"}},
			{name: "bind name differs", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"platform ok"`, `"other"`, 1), status: 400, field: "name"},
			{name: "bind label differs", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"keyLabel": "kek-ok"`, `"keyLabel": "kek-x"`, 1), status: 400,
				field: "keyProvider.keyLabel"},
			{name: "bind wrong provider type", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"providerType": "PLATFORM"`, `"providerType": "AWS_KMS"`, 1),
				status: 400, field: "keyProvider.providerType"},
			{name: "bind bad encryptionType", method: "POST", path: K + "/ok", body: strings.Replace(bind, "AES-256-GCM", "AES-128-CBC", 1), status: 400, field: "encryptionType"},
			{name: "bind bad status", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"ACTIVE"`, `"ON"`, 1), status: 400, field: "status"},
			{name: "bind unknown field", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"status"`, `"keyMaterial": "x", "status"`, 1), status: 400, field: "keyMaterial"},
			{name: "bind wrong type", method: "POST", path: K + "/ok", body: strings.Replace(bind, `"autoRotate": true`, `"autoRotate": 1`, 1), status: 400, field: "autoRotate"},
			{name: "still unbound", method: "GET", path: K + "/ok", status: 200, contains: []string{`"status": "UNBOUND"`}},
			{name: "bind", method: "POST", path: K + "/ok", body: bind, status: 200,
				contains: []string{`"status": "BOUND"`, `"kmsState": "ENABLED"`, `"kmsRegion": "eu-west-2"`, `"currentVersion": "v1"`, `"autoRotate": true`, `"boundAt"`}},
			{name: "bind with empty body revalidates", method: "POST", path: K + "/ok", status: 200, contains: []string{`"status": "BOUND"`}},
			{name: "bind missing key", method: "POST", path: K + "/nope", body: bind, status: 404},
			{name: "bind key disabled in KMS", method: "POST", path: K + "/disabled", status: 409, code: api.CodeKeyState, contains: []string{"DISABLED"}},
			{name: "failure recorded", method: "GET", path: K + "/disabled", status: 200, contains: []string{`"status": "FAILED"`, `"error"`}},
			{name: "bind key unknown to KMS", method: "POST", path: K + "/ghost", status: 400},
			{name: "bind key registered DISABLED", method: "POST", path: K + "/off", status: 409, code: api.CodeKeyState},
			{name: "bind without provider", method: "POST", path: K + "/vault", status: 400, field: "keyProvider.providerType",
				contains: []string{"no VAULT provider is configured"}},
		})

		// The KMS's own answer about the region wins over the registration.
		far := newEnv(t, d, envOptions{keyringRegion: "us-east-1"})
		if err := far.keyring.EnsureKey("kek-far"); err != nil {
			t.Fatal(err)
		}
		if r := far.do("POST", K, platformKey("far", "kek-far")); r.status != 201 {
			t.Fatalf("register: %d %s", r.status, r.raw)
		}
		far.run([]apiCase{
			{name: "KMS reports another region", method: "POST", path: K + "/far", status: 403, code: api.CodeRegionMismatch,
				contains: []string{"us-east-1", "eu-west-2"}},
			{name: "mismatch recorded", method: "GET", path: K + "/far", status: 200, contains: []string{`"status": "FAILED"`, `"kmsRegion": "us-east-1"`}},
		})
	})
}

// The whole key-to-policy path against an AWS KMS emulator (local-kms)
// through the real AWS adapter: register by ARN, bind, use in a policy.
func TestKeysBindAWSKMS(t *testing.T) {
	const keyID = "9a1c4d4e-1b7e-4f63-9a54-0d2b7b7b0001"
	lk := testenv.StartLocalKMS(t, testenv.SeedKey{ID: keyID, BackingKeys: []string{testenv.RandomHexKey(t)}})
	prov, err := awskms.New(context.Background(), awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint,
		AccessKeyID: "test", SecretAccessKey: "test", OrgRegion: orgRegion}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	if lk.Region != orgRegion {
		t.Fatalf("local-kms region %s, tests assume %s", lk.Region, orgRegion)
	}
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{providers: kms.Registry{awskms.ProviderName: prov}})
		reg := fmt.Sprintf(`{"id": "cmk-recording-key-01", "name": "RecordingEncryptionCMK_01", "keyType": "AWS_KMS", "arn": %q, "keyState": "ENABLED"}`, lk.ARN(keyID))
		missing := strings.Replace(lk.ARN(keyID), keyID, "00000000-0000-4000-8000-000000000000", 1)
		bind := fmt.Sprintf(`{"name": "RecordingEncryptionCMK_01", "encryptionType": "AES-256-GCM",
			"keyProvider": {"providerType": "AWS_KMS", "region": "eu-west-2", "keyArn": %q}, "autoRotate": true, "rotationPeriodDays": 90, "status": "ACTIVE"}`, lk.ARN(keyID))
		e.run([]apiCase{
			{name: "register", method: "POST", path: "/api/v2/keys", body: reg, status: 201},
			{name: "policy before bind", method: "POST", path: "/api/v2/recordings/policies", body: pciPolicy, status: 400, field: "encryptionKeyReference.keyId"},
			{name: "bind", method: "POST", path: "/api/v2/keys/cmk-recording-key-01", body: bind, status: 200,
				contains: []string{`"status": "BOUND"`, `"kmsRegion": "eu-west-2"`, `"kmsState": "ENABLED"`}},
			{name: "policy after bind", method: "POST", path: "/api/v2/recordings/policies", body: pciPolicy, status: 201},
			{name: "register missing key", method: "POST", path: "/api/v2/keys",
				body: fmt.Sprintf(`{"id": "ghost", "name": "ghost", "keyType": "AWS_KMS", "arn": %q}`, missing), status: 201},
			{name: "bind missing key", method: "POST", path: "/api/v2/keys/ghost", status: 400, contains: []string{"does not know"}},
		})
	})
}
