package kms

import "fmt"

// CheckRegion refuses a key whose region differs from the organisation's
// region, naming both. The comparison is exact (us-east-1 is not
// us-east-2). An empty orgRegion means the organisation has no region
// pinned and every key passes; an empty keyRegion with a pinned
// orgRegion is refused, because locality cannot be proven.
func CheckRegion(ref KeyRef, keyRegion, orgRegion string) error {
	if orgRegion == "" || keyRegion == orgRegion {
		return nil
	}
	if keyRegion == "" {
		keyRegion = "(unknown)"
	}
	return fmt.Errorf("%w: key %s is in region %s, organisation region is %s",
		ErrRegionMismatch, ref, keyRegion, orgRegion)
}
