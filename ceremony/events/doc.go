// Package events is the lifecycle-event outbox of mediaseal: CloudEvents
// 1.0 (JSON structured format) delivered as Standard Webhooks (signed
// HTTP POSTs) to the subscriptions configured in the control plane.
//
// # Appending an event
//
// A state change in the control-plane store and the event that reports it
// are written in one transaction, so an event is never lost after the
// change committed and never sent for a change that rolled back:
//
//	err := db.BeginTx(...) // or a store method's own transaction
//	... the state change on tx ...
//	id, err := events.Append(ctx, tx, dialect, events.Event{
//		Type:        events.TypeLegalHoldSet,
//		Subject:     "recordings/" + recID,
//		RecordingID: recID,
//		Data:        map[string]any{"holdId": holdID},
//	})
//
// tx is anything with ExecContext (*sql.Tx, or *sql.DB for changes that
// are not store state, e.g. kms.breaker_opened). dialect is the store's
// ("sqlite" or "postgres"). Append writes the event row and one PENDING
// delivery row per ACTIVE subscription whose types match; the event's id
// (a UUIDv7 unless given) is its idempotency key: the CloudEvents id and
// the webhook-id of every delivery and replay of it.
//
// Data must never hold media, key material or SRTP keys. A caller number
// goes in Event.Caller, never in Data: it is added to the data (field
// "caller") only for subscriptions allowed to see caller numbers.
//
// This package sits below ceremony/store in the layers so that store
// methods can append inside their own transactions; it speaks SQL to the
// tables of migration 0009 itself.
//
// # Delivery
//
// [Worker] delivers at least once: it leases due delivery rows (on
// PostgreSQL with FOR UPDATE SKIP LOCKED, so several gateways on one
// database share the work and each row goes to one of them), posts, and
// records the result. A gateway killed mid-delivery leaves a lease that
// expires and is taken by another worker. Failures back off exponentially
// with jitter until MaxAttempts, then the row is dead (listed by
// [Outbox.ListDeliveries], counted in metrics, re-sent by [Outbox.Replay]).
// Per subscription, an event of a recording is not sent before every older
// event of that recording was delivered or is dead.
package events
