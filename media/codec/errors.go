package codec

import "errors"

// ErrUnsupported is returned by [Lookup] for an encoding this package cannot
// decode to PCM (Opus, video, ...). Callers match it with errors.Is.
var ErrUnsupported = errors.New("codec: unsupported encoding")
