package uploader

import "errors"

var (
	// ErrConfig means a Config field is invalid.
	ErrConfig = errors.New("uploader: invalid config")
	// ErrVerify means the stored object does not match the spooled file
	// (size or SHA-256 read back after the Put); the upload is retried.
	ErrVerify = errors.New("uploader: stored object does not match the spool file")
	// ErrRunning means Run was called while another Run is active.
	ErrRunning = errors.New("uploader: already running")
)
