// Package policy holds recording policies in the schema of the reference
// key-ceremony guide (name, recordingType, encryptionKeyReference,
// targetType/targetIds, status, conditions), validates them and decides for
// a call whether and how it is recorded ([Set.Match]).
package policy
