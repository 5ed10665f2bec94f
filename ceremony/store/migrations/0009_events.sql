-- Lifecycle events (ceremony/events): webhook subscriptions, the durable
-- outbox and one delivery row per (event, subscription). An event is
-- inserted in the same transaction as the state change it reports, with a
-- PENDING delivery row for every ACTIVE subscription whose types match;
-- delivery workers of any gateway lease those rows (lease_owner,
-- lease_until), so a gateway killed mid-delivery leaves a lease that
-- expires and is taken again. Times are Unix nanoseconds.

-- secret and secret_prev are Standard Webhooks secrets ("whsec_" base64);
-- secret_prev is set during a rotation, when both sign. see_caller allows
-- caller numbers in the events' data. state is ACTIVE or PAUSED.
CREATE TABLE event_subscriptions (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    types       TEXT NOT NULL,
    secret      TEXT NOT NULL,
    secret_prev TEXT NOT NULL DEFAULT '',
    see_caller  BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- id is the idempotency key (CloudEvents id and webhook-id). data is the
-- event's JSON data without caller numbers; caller holds them apart, added
-- only for subscriptions with see_caller.
CREATE TABLE event_outbox (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    source       TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    recording_id TEXT NOT NULL DEFAULT '',
    event_time   BIGINT NOT NULL,
    data         ${BLOB} NOT NULL,
    caller       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX event_outbox_time ON event_outbox (event_time);

-- order_key is the recording id (or the event id when the event has no
-- recording): a row is not leased while an older PENDING row of the same
-- subscription and order_key exists. state: PENDING, DELIVERED or DEAD.
CREATE TABLE event_deliveries (
    event_id        TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    order_key       TEXT NOT NULL,
    event_time      BIGINT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_status     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, subscription_id)
);
CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_at);
CREATE INDEX event_deliveries_order ON event_deliveries (subscription_id, order_key, state, event_time);
