package spanconv_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/spanconv"
	"github.com/otelkit/otelkit/tracing/diagnose"
)

func TestFromSDKAndBack(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("payments"), semconv.ServiceVersion("1.2"))))
	tr := tp.Tracer("t")
	ctx, parent := tr.Start(context.Background(), "send orders", trace.WithSpanKind(trace.SpanKindProducer))
	_, child := tr.Start(ctx, "process orders", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(trace.Link{SpanContext: parent.SpanContext(), Attributes: []attribute.KeyValue{attribute.Int("n", 1)}}),
		trace.WithAttributes(semconv.MessagingDestinationPartitionID("5")))
	child.RecordError(errors.New("boom"))
	child.SetStatus(codes.Error, "boom")
	child.End()
	parent.End()

	got := spanconv.FromSDK(exp.GetSpans().Snapshots())
	if len(got) != 2 {
		t.Fatalf("%d spans", len(got))
	}
	c := got[0]
	if c.Name != "process orders" || c.Kind != trace.SpanKindConsumer || c.Service != "payments" ||
		c.ParentID != parent.SpanContext().SpanID() || c.TraceID != parent.SpanContext().TraceID() ||
		c.Status != codes.Error || c.StatusMessage != "boom" || len(c.Events) != 1 || c.Events[0].Name != "exception" ||
		len(c.Links) != 1 || c.Links[0].SpanID != parent.SpanContext().SpanID() {
		t.Errorf("converted span %+v", c)
	}
	if v, ok := c.Attr(semconv.ServiceVersionKey); !ok || v.String() != "1.2" {
		t.Errorf("resource attribute service.version = %v", v)
	}
	if v, _ := c.Attr(semconv.MessagingDestinationPartitionIDKey); v.String() != "5" {
		t.Errorf("partition = %v", v)
	}

	back := spanconv.ToSDK(got)
	again := spanconv.FromSDK(back)
	for i := range got {
		a, b := got[i], again[i]
		if a.Name != b.Name || a.SpanID != b.SpanID || a.ParentID != b.ParentID || a.Service != b.Service || a.Status != b.Status ||
			!a.Start.Equal(b.Start) || !a.End.Equal(b.End) || len(a.Attributes) != len(b.Attributes) || len(a.Links) != len(b.Links) {
			t.Errorf("round trip %d: %+v\nbecame %+v", i, a, b)
		}
	}
	// A span with no resource gets its service name as one.
	only := spanconv.ToSDK([]diagnose.Span{{Name: "x", Service: "svc"}})
	if v, _ := only[0].Resource().Set().Value(semconv.ServiceNameKey); v.String() != "svc" {
		t.Errorf("service.name = %q", v.String())
	}
}
