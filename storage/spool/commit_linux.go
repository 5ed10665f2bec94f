package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

// groupCommit: one syncfs(2) commits every file of the spool's filesystem.
const groupCommit = true

// commitFS syncs the filesystem holding dir. Since Linux 5.8 syncfs reports
// writeback errors of any file on it, so a failed page of any recording
// fails the commit of every appender waiting on it (they roll back and
// retry); it never reports success for data that did not reach the disk.
func commitFS(dir string, _ *os.File) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
