package kafkatrace

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
)

// Process runs fn, the application's work for the consumed record r,
// inside a "process {topic}" CONSUMER span and returns fn's error. fn
// receives ctx carrying the span and the record's baggage; ctx's values,
// deadline and cancellation are kept.
//
// The span continues the trace in r's headers (see [WithNewRoot] for a
// linked new trace instead). A record without usable trace context starts
// a new trace; unusable headers are reported through otel.Handle as
// [ErrBadHeaders] and never stop the record from being processed. fn's
// error and panics are recorded as
// [github.com/otelkit/otelkit/tracing.End] records them (Error status,
// error.type, an exception event; context.Canceled is not an error), and a
// panic is re-raised.
//
// Spans exist only for records the application processes: prefetched,
// discarded or skipped records cost nothing. Call Process on the
// goroutine doing the work, so the span measures the work.
func (t *Tracer) Process(ctx context.Context, r *kgo.Record, fn func(context.Context) error) (err error) {
	p := t.propagation()
	own := trace.SpanContextFromContext(ctx)
	ctx = p.Extract(ctx, carrier{r})
	rsc := trace.SpanContextFromContext(ctx)
	usable := rsc.IsValid() && (rsc.TraceID() != own.TraceID() || rsc.SpanID() != own.SpanID())
	if f := p.inspect(r.Headers); f&faultOversized != 0 || (!usable && f&faultTraceHeader != 0) {
		t.report(fmt.Errorf("%w: topic %q partition %d offset %d", ErrBadHeaders, r.Topic, r.Partition, r.Offset))
	}

	ti := t.topic(r.Topic)
	ci := t.client.Load()
	st := new(processStart)
	opts := st.opts[:0]
	attrs := append(st.attrs[:0], kafka, opProcess, semconv.MessagingOperationTypeProcess, ti.dest,
		partitionID(r.Partition), semconv.MessagingKafkaOffset(int(r.Offset)))
	attrs = t.clientAttrs(attrs, ci)
	attrs = t.recordAttrs(attrs, r)
	if t.cfg.queueTime && !r.Timestamp.IsZero() {
		start := time.Now()
		attrs = append(attrs, TimeInQueueKey.Float64(max(start.Sub(r.Timestamp), 0).Seconds()))
		opts = append(opts, trace.WithTimestamp(start))
	}

	opts = append(opts, consumerKind, trace.WithAttributes(attrs...))
	switch {
	case !usable:
		opts = append(opts, newRoot)
	case t.cfg.newRoot:
		opts = append(opts, newRoot, trace.WithLinks(trace.Link{SpanContext: rsc}))
	}
	ctx, span := t.tracer().Start(ctx, ti.process, opts...)
	defer func() { tracing.FinishOutcome(ctx, span, &err, recover()) }()
	return fn(ctx)
}

// ProcessBatch runs fn, the application's work for records handled
// together, inside one "process {topic}" CONSUMER span ("process" when the
// records come from several topics) and returns fn's error.
//
// The span is a child of ctx's span, if any: a batch has no single
// producer to continue. It links to the creation context of each record
// that carries one, up to the limit set by [WithBatchLinkLimit], each
// link with the record's partition and offset (and topic, for a batch of
// several topics), and records messaging.batch.message_count. Errors and
// panics are recorded as by [Tracer.Process]. An empty batch runs fn
// without a span.
func (t *Tracer) ProcessBatch(ctx context.Context, records []*kgo.Record, fn func(context.Context) error) (err error) {
	if len(records) == 0 {
		return fn(ctx)
	}
	start := time.Now()
	p := t.propagation()

	topic := records[0].Topic
	samePartition := true
	oldest := records[0].Timestamp
	for _, r := range records[1:] {
		if r.Topic != topic {
			topic = ""
		}
		if r.Partition != records[0].Partition {
			samePartition = false
		}
		if !r.Timestamp.IsZero() && (oldest.IsZero() || r.Timestamp.Before(oldest)) {
			oldest = r.Timestamp
		}
	}
	samePartition = samePartition && topic != ""

	links := make([]trace.Link, 0, min(len(records), t.cfg.batchLinks))
	for _, r := range records {
		if len(links) == cap(links) {
			break
		}
		sc := trace.SpanContextFromContext(p.Extract(context.Background(), carrier{r}))
		if !sc.IsValid() {
			continue
		}
		la := make([]attribute.KeyValue, 0, 3)
		la = append(la, partitionID(r.Partition), semconv.MessagingKafkaOffset(int(r.Offset)))
		if topic == "" {
			la = append(la, semconv.MessagingDestinationName(r.Topic))
		}
		links = append(links, trace.Link{SpanContext: sc, Attributes: la})
	}

	ti := t.topic(topic)
	ci := t.client.Load()
	attrs := attrBuf(ci, 8)
	attrs = append(attrs, kafka, opProcess, semconv.MessagingOperationTypeProcess,
		semconv.MessagingBatchMessageCount(len(records)))
	if topic != "" {
		attrs = append(attrs, ti.dest)
	}
	if samePartition {
		attrs = append(attrs, partitionID(records[0].Partition))
	}
	attrs = t.clientAttrs(attrs, ci)
	if t.cfg.queueTime && !oldest.IsZero() {
		attrs = append(attrs, TimeInQueueKey.Float64(max(start.Sub(oldest), 0).Seconds()))
	}

	ctx, span := t.tracer().Start(ctx, ti.process, consumerKind, trace.WithTimestamp(start),
		trace.WithAttributes(attrs...), trace.WithLinks(links...))
	defer func() { tracing.FinishOutcome(ctx, span, &err, recover()) }()
	return fn(ctx)
}

// processStart holds the start attributes and options of a process span,
// in one allocation.
type processStart struct {
	attrs [12]attribute.KeyValue
	opts  [5]trace.SpanStartOption
}

// attrBuf returns an empty attribute slice with room for n attributes and
// those of ci.
func attrBuf(ci *clientInfo, n int) []attribute.KeyValue {
	if ci != nil {
		n += len(ci.attrs) + 1
	}
	return make([]attribute.KeyValue, 0, n)
}

// clientAttrs appends the client's attributes and consumer group.
func (t *Tracer) clientAttrs(attrs []attribute.KeyValue, ci *clientInfo) []attribute.KeyValue {
	if ci == nil {
		return attrs
	}
	attrs = append(attrs, ci.attrs...)
	if ci.group.Valid() {
		attrs = append(attrs, ci.group)
	}
	return attrs
}
