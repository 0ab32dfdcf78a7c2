package outbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Message is one event to publish: where it goes and what it carries.
type Message struct {
	// Topic is the Kafka topic. Required.
	Topic string
	// Key is the Kafka record key. Rows with the same non-nil key are
	// published in the order they were enqueued (see the package doc).
	Key []byte
	// Value is the record value.
	Value []byte
	// Headers are extra record headers. Trace context headers are added by
	// the producer hooks at publish time; do not put them here.
	Headers []kgo.RecordHeader
}

// ErrNoTopic is returned by Enqueue for a message without a topic.
var ErrNoTopic = errors.New("outbox: message has no topic")

// Writer enqueues messages in the caller's transaction. The zero value is
// not usable; make one with [NewWriter]. A Writer is safe for concurrent use.
type Writer struct {
	cfg config
}

// NewWriter returns a Writer. Only [WithPropagators] applies to it.
func NewWriter(opts ...Option) *Writer {
	return &Writer{cfg: newConfig(opts)}
}

var defaultWriter = NewWriter()

// Enqueue is [Writer.Enqueue] with the default propagator.
func Enqueue(ctx context.Context, tx pgx.Tx, msgs ...Message) error {
	return defaultWriter.Enqueue(ctx, tx, msgs...)
}

const insertSQL = `INSERT INTO outbox
	(topic, key, payload, header_keys, header_values, traceparent, tracestate, baggage, trace_extra)
	VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''), $9)`

// Enqueue inserts msgs into the outbox table within tx, each row carrying
// the trace context of ctx (the span that is current when the event is
// decided, typically the request's). It writes nothing outside tx: the rows
// become visible to the relay when the caller commits, together with the
// business rows, and vanish if the caller rolls back.
//
// Several messages are sent in one round trip (a pgx batch).
func (w *Writer) Enqueue(ctx context.Context, tx pgx.Tx, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var c carrier
	w.cfg.textMapPropagator().Inject(ctx, &c)
	extra := c.extraJSON()

	args := func(m *Message) []any {
		var hk []string
		var hv [][]byte
		if len(m.Headers) > 0 {
			hk = make([]string, len(m.Headers))
			hv = make([][]byte, len(m.Headers))
			for i, h := range m.Headers {
				hk[i], hv[i] = h.Key, h.Value
			}
		}
		return []any{m.Topic, m.Key, m.Value, hk, hv, c.traceparent, c.tracestate, c.baggage, extra}
	}
	for i := range msgs {
		if msgs[i].Topic == "" {
			return ErrNoTopic
		}
	}
	if len(msgs) == 1 {
		if _, err := tx.Exec(ctx, insertSQL, args(&msgs[0])...); err != nil {
			return fmt.Errorf("outbox: enqueue: %w", err)
		}
		return nil
	}
	b := &pgx.Batch{}
	for i := range msgs {
		b.Queue(insertSQL, args(&msgs[i])...)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}
