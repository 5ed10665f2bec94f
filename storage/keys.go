package storage

import (
	"fmt"
	"time"
)

// RecordingKey lays out the object key of a sealed recording:
// "<org>/YYYY/MM/DD/<recordingID>.seal", the date being the recording's start
// in UTC so that the key never depends on the gateway's time zone. Listing by
// "<org>/" or "<org>/YYYY/MM/" therefore walks recordings in date order.
// Callers should check the result with [ValidateKey] when org or recordingID
// come from outside.
func RecordingKey(org string, started time.Time, recordingID string) string {
	u := started.UTC()
	return fmt.Sprintf("%s/%04d/%02d/%02d/%s.seal", org, u.Year(), int(u.Month()), u.Day(), recordingID)
}
