-- Transactional outbox. Applied by outbox.Apply; every statement is
-- idempotent, so applying it again (or from several relays at once) is safe.

CREATE TABLE IF NOT EXISTS outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         text        NOT NULL,
    key           bytea,
    payload       bytea,
    header_keys   text[],
    header_values bytea[],
    -- The trace context carrier: what the propagator injected when the row
    -- was enqueued. Fields other than the W3C three go to trace_extra.
    traceparent   text,
    tracestate    text,
    baggage       text,
    trace_extra   jsonb,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text,
    -- Not claimed before this time (retry backoff); NULL means now.
    retry_at      timestamptz,
    -- Set aside after too many failed attempts; never claimed again.
    dead_at       timestamptz
);

-- Pending rows in claim order.
CREATE INDEX IF NOT EXISTS outbox_pending_idx ON outbox (id) WHERE dead_at IS NULL;

-- Earlier pending row of the same key (per-key ordering check).
CREATE INDEX IF NOT EXISTS outbox_pending_key_idx ON outbox (key, id) WHERE dead_at IS NULL;

-- Wake the relays when rows commit. NOTIFY is transactional: the
-- notification is delivered at commit, never for a rolled back insert. The
-- payload is the schema, so relays on other schemas ignore it.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER outbox_notify
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
