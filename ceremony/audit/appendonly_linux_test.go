package audit_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// clearAppendOnly removes FS_APPEND_FL so that the test's directory can
// be removed.
func clearAppendOnly(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Error(err)
		return
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags&^0x20)); err != nil {
		t.Error(err)
	}
}
