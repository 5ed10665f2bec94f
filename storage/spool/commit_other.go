//go:build !linux

package spool

import "os"

// groupCommit is off where syncfs(2) does not exist: every append syncs its
// own file.
const groupCommit = false

func commitFS(_ string, f *os.File) error { return f.Sync() }
