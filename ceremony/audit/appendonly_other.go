//go:build !linux

package audit

import "os"

// setAppendOnly is Linux only (FS_APPEND_FL).
func setAppendOnly(*os.File) {}
