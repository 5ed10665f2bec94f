package audit

import (
	"os"

	"golang.org/x/sys/unix"
)

// fsAppendFL is FS_APPEND_FL of linux/fs.h (x/sys/unix does not name it).
const fsAppendFL = 0x00000020

// setAppendOnly sets FS_APPEND_FL on f: even root must clear the flag
// (chattr -a) before truncating or rewriting it. It needs
// CAP_LINUX_IMMUTABLE and a file system that supports it; without either
// it does nothing.
func setAppendOnly(f *os.File) {
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsAppendFL != 0 {
		return
	}
	_ = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsAppendFL))
}
