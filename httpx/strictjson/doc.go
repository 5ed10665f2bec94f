// Package strictjson decodes JSON request bodies so that every reader
// sees the same value: a body that two JSON readers could interpret
// differently — a duplicated key, keys that differ only in case (which
// encoding/json folds together), a key written with escapes, invalid
// UTF-8, a byte order mark, trailing data — is refused instead of being
// read one way by a quorum gate and another way by the handler that
// executes it. Check is the type-free part (approvals.Canonical uses it);
// Unmarshal adds the type-aware part: every key names a field of the
// destination exactly.
package strictjson
