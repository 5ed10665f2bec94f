package awskms

import "strings"

// RegionOf returns the region named by an AWS KMS key ARN
// ("arn:aws:kms:us-east-1:123456789012:key/..."), and false when keyID is
// not an ARN (a bare key id or alias resolves in the client's region).
func RegionOf(keyID string) (string, bool) {
	parts := strings.SplitN(keyID, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[3] == "" {
		return "", false
	}
	return parts[3], true
}
