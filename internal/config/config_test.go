package config

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultParses(t *testing.T) {
	c, err := Parse(Default)
	if err != nil {
		t.Fatal(err)
	}
	if c.Recording.MaxChunkSize != 64<<10 || c.Recording.FlushInterval.D().String() != "1s" {
		t.Fatalf("units not decoded: %+v", c.Recording)
	}
	if len(c.Policies) != 1 || c.Policies[0].ID != "default-record-all" {
		t.Fatalf("policies: %+v", c.Policies)
	}
}

func TestBadConfigNamesField(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "org:\n  id: x\n  regoin: eu\n", "line 3: field regoin not found"},
		{"bad duration", "kms:\n  timeout: fast\n", `line 2: "fast" is not a duration`},
		{"bad size", "recording:\n  maxChunkSize: lots\n", `"lots" is not a size`},
		{"timeout out of range", "kms:\n  timeout: 2m\n", "kms.timeout"},
		{"port range", "media:\n  portMin: 5000\n  portMax: 4000\n", "media.portMax"},
		{"storage type", "storage:\n  type: ftp\n", "storage.type: must be fs or s3 (got ftp)"},
		{"spool commit", "spool:\n  commit: never\n", "spool.commit: must be filesystem or file (got never)"},
		{"s3 bucket", "storage:\n  type: s3\n", "storage.s3.bucket"},
		{"key region", "org: {region: us-east-1}\nkeys:\n  - {id: k1, providerType: AWS_KMS, providerKeyId: arn, region: eu-west-1}\n", "eu-west-1 differs from organisation region us-east-1"},
		{"policy field", "policies:\n  - {name: p, recordingType: LOUD, targetIds: [q1]}\n", "recordingType"},
		{"unknown policy key", "policies:\n  - {name: p, recordingType: AUDIO, keyy: 1}\n", "field keyy not found"},
		{"policy key not registered", "policies:\n  - {name: p, recordingType: AUDIO, targetIds: [q1], encryptionKeyReference: {keyId: nope, providerType: AWS_KMS}}\n", "policies[0].encryptionKeyReference.keyId"},
		{"global customer key", "keys:\n  - {id: k1, providerType: AWS_KMS, providerKeyId: arn}\npolicies:\n  - {name: p, recordingType: AUDIO, targetIds: ['*'], encryptionKeyReference: {keyId: k1, providerType: AWS_KMS}}\n", "allowGlobalCustomerKey"},
		{"log format", "log: {format: xml}\n", "log.format"},
		{"unknown key type", "keys:\n  - {id: k1, providerType: AZURE, providerKeyId: k}\n", "keys[0].providerType: must be PLATFORM, AWS_KMS or PKCS11 (got AZURE)"},
		{"provider name as key type", "keys:\n  - {id: k1, providerType: aws-kms, providerKeyId: k}\n", "keys[0].providerType: must be PLATFORM, AWS_KMS or PKCS11 (got aws-kms)"},
		{"key type no adapter serves", "keys:\n  - {id: k1, providerType: VAULT, providerKeyId: k}\n", "keys[0].providerType: must be PLATFORM, AWS_KMS or PKCS11 (got VAULT)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFieldErrorIsTyped(t *testing.T) {
	_, err := Parse([]byte("media:\n  maxSessions: -1\n"))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "media.maxSessions" {
		t.Fatalf("got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"64KiB": 65536, "1MiB": 1 << 20, "10MB": 1e7, "512": 512, "3 GiB": 3 << 30} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1XB", "KiB", "99999999999999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}
