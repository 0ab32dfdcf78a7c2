package kafkatrace

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	_ "github.com/otelkit/otelkit/internal/kafkaerr" // Kafka error codes as error.type
	"github.com/otelkit/otelkit/tracing"
)

// sendContext is the record context while the record is in flight: the
// context of its send span, remembering the context the span was started
// from. A record produced again after its promise (a retry by the
// application) starts its new send span from that same parent, as a
// sibling of the first attempt, not as its child.
//
// It also holds, in the same allocation, the span's start attributes and
// options, the attributes set when it ends, and room for the record's new
// headers and their values: per record, that is one allocation instead of
// six.
type sendContext struct {
	context.Context
	parent context.Context
	span   trace.Span

	attrs   [10]attribute.KeyValue
	opts    [2]trace.SpanStartOption
	end     [2]attribute.KeyValue
	headers [4]kgo.RecordHeader
	values  [96]byte
	w       writer
}

// OnProduceRecordBuffered implements kgo.HookProduceRecordBuffered. It
// starts the record's send span from r.Context (the context given to
// Produce, or the one the application set on the record, as an outbox
// relay does to restore the request's trace), replaces the propagation
// headers of r with the span's context, and sets r.Context to the span's
// context, which the promise sees.
//
// It runs on the goroutine calling Produce, once per Produce call; the
// client's internal retries do not run it again, so headers are written
// once per attempt by the application. Besides the span, it makes one
// allocation, the in-flight context, which has room for the attributes,
// the new header slice and the traceparent; the application's header
// slice is never written to.
func (t *Tracer) OnProduceRecordBuffered(r *kgo.Record) {
	parent := r.Context
	if parent == nil {
		parent = context.Background()
	}
	if sc, ok := parent.(*sendContext); ok {
		parent = sc.parent
	}
	ti := t.topic(r.Topic)
	ci := t.client.Load()
	sc := &sendContext{parent: parent}

	attrs := append(sc.attrs[:0], kafka, opSend, semconv.MessagingOperationTypeSend, ti.dest)
	if ci != nil {
		attrs = append(attrs, ci.attrs...)
	}
	attrs = t.recordAttrs(attrs, r)
	sc.opts = [...]trace.SpanStartOption{producerKind, trace.WithAttributes(attrs...)}

	sc.Context, sc.span = t.tracer().Start(parent, ti.send, sc.opts[:]...)
	if ti.inject {
		p := t.propagation()
		r.Headers = p.strip(r.Headers, len(p.all), sc.headers[:0])
		sc.w = writer{r: r, buf: sc.values[:0]}
		p.Inject(sc.Context, &sc.w)
		sc.w = writer{}
	}
	r.Context = sc
}

// OnProduceRecordUnbuffered implements kgo.HookProduceRecordUnbuffered. It
// ends the record's send span, just before the promise runs, with the
// partition and offset the record was written at, or with the error and
// its error.type (the Kafka error code name for broker errors) by the one
// policy of the tracing package: a record failed because the caller
// cancelled its context is not an error, an expired deadline has
// error.type "timeout".
func (t *Tracer) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	sc, ok := r.Context.(*sendContext)
	if !ok {
		return
	}
	span := sc.span
	if span.IsRecording() {
		if err == nil {
			sc.end = [...]attribute.KeyValue{partitionID(r.Partition), semconv.MessagingKafkaOffset(int(r.Offset))}
			span.SetAttributes(sc.end[:]...)
		} else {
			// sc's cancellation and deadline are those of the context
			// the record was produced with.
			tracing.RecordOutcome(sc, span, err)
		}
	}
	span.End()
}

// Forward returns a copy of the consumed record r, ready to be produced
// to topic (r's topic when empty) under ctx, typically the context of the
// [Tracer.Process] span handling r. Producing r itself would not do:
// the client keeps a record's existing context and timestamp, so the send
// span would hang off the wrong parent.
//
// The copy shares r's key and value, keeps every header except those the
// propagator owns (the send span writes fresh ones, unless injection is
// off for topic, in which case none travel), and has a zero timestamp and
// partition, so the client assigns new ones.
func (t *Tracer) Forward(ctx context.Context, r *kgo.Record, topic string) *kgo.Record {
	if topic == "" {
		topic = r.Topic
	}
	p := t.propagation()
	return &kgo.Record{
		Key:     r.Key,
		Value:   r.Value,
		Headers: p.strip(r.Headers, len(p.all), nil),
		Topic:   topic,
		Context: ctx,
	}
}
