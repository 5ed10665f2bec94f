package awskms

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// CiphertextFormatLocalKMS names the ciphertext layout of local-kms
// (nsmithuk/local-kms), a KMS-compatible server that reports no key
// material ids: without reading its blobs, every envelope it wraps has
// an unknown version and a rewrap can never be checked.
const CiphertextFormatLocalKMS = "local-kms"

// CiphertextVersionOf returns the version reader for a named ciphertext
// format ("" = none: AWS KMS reports key material ids itself).
func CiphertextVersionOf(format string) (func([]byte) (string, bool), error) {
	switch format {
	case "":
		return nil, nil
	case CiphertextFormatLocalKMS:
		return LocalKMSCiphertextVersion, nil
	}
	return nil, fmt.Errorf("awskms: unknown ciphertext format %q (want %q or empty)", format, CiphertextFormatLocalKMS)
}

// LocalKMSCiphertextVersion reads the backing-key version out of a
// local-kms ciphertext blob: 1-byte key ident length, the ident, then the
// little-endian uint32 version of the backing key that wrapped it.
func LocalKMSCiphertextVersion(blob []byte) (string, bool) {
	if len(blob) < 1 {
		return "", false
	}
	n := int(blob[0])
	if len(blob) < 1+n+4 {
		return "", false
	}
	return fmt.Sprintf("%d", binary.LittleEndian.Uint32(blob[1+n:])), true
}

// probeContext is the encryption context of the version probe: no
// recording's context has this key, so a probe ciphertext unwraps nothing.
var probeContext = map[string]string{"mediaseal": "key-version-probe"}

// probeVersion learns the version a server that describes none (local-kms)
// wraps under now, by encrypting one byte and reading the blob's version.
func (p *Provider) probeVersion(ctx context.Context, keyID string) string {
	out, err := p.client.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte{0},
		EncryptionContext: probeContext})
	if err != nil {
		return ""
	}
	return p.version(nil, out.CiphertextBlob)
}
