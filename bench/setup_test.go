package bench

import (
	"context"
	"io"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/waterfall"
)

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

var spanAttrs = trace.WithAttributes(
	attribute.String("order.id", "ord-42"),
	attribute.Int("order.item_count", 3),
	attribute.String("payment.provider", "acme"),
)

func benchSpans(b *testing.B, tp trace.TracerProvider) {
	tr := tp.Tracer("bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, s := tr.Start(ctx, "orders.create", spanAttrs)
		s.End()
	}
}

// BenchmarkPipeline compares a span through the pipeline tracing.Setup builds
// (batching, conventions, redaction, failure reporting) with a span through
// the SDK's batch span processor alone, both into a discarding exporter.
func BenchmarkPipeline(b *testing.B) {
	b.Run("sdk-batcher", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}))
		defer tp.Shutdown(context.Background())
		benchSpans(b, tp)
	})
	b.Run("tracing.Setup", func(b *testing.B) {
		var p tracing.Providers
		shutdown, err := tracing.Setup(context.Background(),
			tracing.WithServiceName("bench"),
			tracing.WithDefaultTracesExporter("none"),
			tracing.WithDefaultMetricsExporter("none"),
			tracing.WithSpanExporter(discardExporter{}),
			tracing.WithoutGlobals(&p))
		if err != nil {
			b.Fatal(err)
		}
		defer shutdown(context.Background())
		benchSpans(b, p.TracerProvider)
	})
}

// BenchmarkTerminalExporter compares printing a two-span trace with the
// waterfall exporter and with the SDK's stdout exporter (OTEL_TRACES_EXPORTER
// =console), both writing to io.Discard.
func BenchmarkTerminalExporter(b *testing.B) {
	run := func(b *testing.B, e sdktrace.SpanExporter, flush func()) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(e)))
		defer tp.Shutdown(context.Background())
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			ctx, root := tr.Start(context.Background(), "POST /checkout", spanAttrs)
			_, child := tr.Start(ctx, "orders.create")
			child.End()
			root.End()
			flush()
		}
	}
	b.Run("stdouttrace", func(b *testing.B) {
		e, err := stdouttrace.New(stdouttrace.WithWriter(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		run(b, e, func() {})
	})
	b.Run("waterfall", func(b *testing.B) {
		e := waterfall.NewExporter(io.Discard, waterfall.WithWidth(120), waterfall.WithColor(false))
		run(b, e, func() { _ = e.ForceFlush(context.Background()) })
	})
}
