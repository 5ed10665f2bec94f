package playback

import "errors"

// Refusals of an export, made before any plaintext is released.
var (
	// ErrNotComplete: the index does not say the recording is COMPLETE or
	// RECOVERED (still recording or uploading, failed, cut): only a
	// salvage export reads it.
	ErrNotComplete = errors.New("recording is not complete")
	// ErrIntegrity: the stored object is not the one the index describes
	// (size, SHA-256, chunk count or end differ) or does not verify.
	ErrIntegrity = errors.New("stored recording does not match its index")
	// ErrRecordingNotFound means the id names no recording.
	ErrRecordingNotFound = errors.New("recording not found")
	// ErrShredded means the recording's key was destroyed: no path can
	// decrypt it any more. The playback API answers it with its own code.
	ErrShredded = errors.New("recording was crypto-shredded: its key has been destroyed and it can never be decrypted")
	// ErrUnknownFormat: the export format is not one of [Formats].
	ErrUnknownFormat = errors.New("unknown format")
)
