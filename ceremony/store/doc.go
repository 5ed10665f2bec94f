// Package store is the control-plane store of mediaseal: the recordings
// index, versioned recording policies and the keys registry, behind one
// repository interface ([Store]).
//
// Two SQL dialects share the same code and, where possible, the same
// migration SQL: SQLite (modernc.org/sqlite, no cgo) is the embedded default
// and PostgreSQL (pgx through database/sql) is used when a DSN is given, so
// that several gateways share one control plane. Queries are written with
// "?" placeholders and rebound for PostgreSQL. Times are stored as Unix
// nanoseconds (BIGINT) in UTC so both dialects round-trip them exactly.
//
// Schema changes are versioned migrations ([migrations] directory) applied
// at [Open] in one transaction each and recorded in schema_migrations;
// applying them again is a no-op, and on PostgreSQL an advisory lock keeps
// two gateways starting at once from racing.
//
// Identifiers come from [NewID] (UUIDv7: time-ordered and 122 bits of
// uniqueness) so that gateways never double-allocate.
package store
