// Package storage is the object-store contract of mediaseal. Recordings are
// immutable sealed objects (see package seal); a [Store] puts them, reads
// them back by range, and lists and deletes them. Adapters live in
// sub-packages (fs, s3); storagetest is the conformance suite every adapter
// passes.
package storage
