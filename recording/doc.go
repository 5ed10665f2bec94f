// Package recording owns a recording's life cycle, from the session that
// starts it to the row that indexes it:
//
//	ACTIVE ──▶ SEALED ──────────▶ UPLOADED ──▶ INDEXED
//	  │  └───▶ WRITE_FAILED ─┐      ▲
//	  │                      ▼      │
//	  ├──────────────────▶ RECOVERED / TRUNCATED
//	  └──▶ FAILED
//
// A [Recording]'s id and object key are decided once, by [Service.Begin],
// and carried to the end: nothing downstream reads them back from a file
// name or a seal header. Media writes through the [storage.SpoolFile] a
// Recording opens; when the file is sealed the Recording queues its own
// upload, and the uploader's confirmation moves it on. The index is
// written by one ordered, bounded writer off the media path: a store that
// is down delays rows, counted and logged, and never loses them while the
// process lives. Crash recovery ([Service.Recover]) closes what a dead
// process left open.
//
// The package sees the spool, the object store, the KMS and the index
// only through contracts; the assembly chooses the adapters.
package recording
