// Package retention holds the end-to-end tests of recording retention:
// the retain-until fixed at creation, in the index and as the object's
// S3 object-lock retention on a real versitygw bucket.
package retention
