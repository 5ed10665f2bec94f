package seal

// Option configures a [Writer].
type Option func(*options)

type options struct {
	maxChunk    int // 0 = take Header.MaxChunkSize, else DefaultMaxChunkSize
	compression bool
}

// WithMaxChunkSize sets the maximum plaintext size of a chunk (the record
// bytes sealed under one tag). It overrides Header.MaxChunkSize. NewWriter
// rejects values outside [MinChunkSize, MaxChunkSizeLimit] with ErrChunkTooLarge.
func WithMaxChunkSize(n int) Option {
	return func(o *options) { o.maxChunk = n }
}

// WithCompression compresses each chunk with zstd before sealing it. A chunk
// that does not shrink is stored uncompressed; a flag in its prefix says which.
func WithCompression(on bool) Option {
	return func(o *options) { o.compression = on }
}

// ReaderOption configures a [Reader].
type ReaderOption func(*readerOptions)

type readerOptions struct {
	salvage bool
}

// WithSalvage lets a Reader return the verified prefix of an object that has
// no final chunk (a crash, an interrupted upload). Such a read reports
// StatusTruncated, never StatusComplete.
func WithSalvage() ReaderOption {
	return func(o *readerOptions) { o.salvage = true }
}
