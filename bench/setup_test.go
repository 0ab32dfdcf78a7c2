package bench

import (
	"context"
	"io"
	"net"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/waterfall"
)

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

var spanAttrs = trace.WithAttributes(
	attribute.String("order.id", "ord-42"),
	attribute.Int("order.item_count", 3),
	attribute.String("payment.provider", "acme"),
)

// setupTracing returns the providers otelsetup.Setup builds, without
// globals, exporting to e only, shut down when b ends.
func setupTracing(b *testing.B, e sdktrace.SpanExporter, opts ...otelsetup.Option) otelsetup.Providers {
	b.Helper()
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(), append([]otelsetup.Option{
		otelsetup.WithServiceName("bench"),
		otelsetup.WithDefaultTracesExporter("none"),
		otelsetup.WithDefaultMetricsExporter("none"),
		otelsetup.WithSpanExporter(e),
		otelsetup.WithoutGlobals(&p)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = shutdown(context.Background()) })
	return p
}

func benchSpans(b *testing.B, tp trace.TracerProvider) {
	tr := tp.Tracer("bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, s := tr.Start(ctx, "orders.create", spanAttrs)
		s.End()
	}
}

// BenchmarkPipeline compares a span through the pipeline otelsetup.Setup builds
// (batching, conventions, redaction, failure reporting) with a span through
// the SDK's batch span processor alone, both into a discarding exporter.
func BenchmarkPipeline(b *testing.B) {
	b.Run("sdk-batcher", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}))
		defer tp.Shutdown(context.Background())
		benchSpans(b, tp)
	})
	b.Run("otelsetup.Setup", func(b *testing.B) {
		benchSpans(b, setupTracing(b, discardExporter{}).TracerProvider)
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

// BenchmarkRequestSpans measures the round trip of a request over loopback
// TCP whose handler ends ten spans before it answers, as a service does, with
// the spans going through the SDK's batch span processor and through the one
// otelsetup.Setup installs (conventions off, to compare the batching alone),
// against no tracing. The SDK's processor wakes its goroutine for every
// ended span; that work lands on the request's path.
func BenchmarkRequestSpans(b *testing.B) {
	roundTrip := func(b *testing.B, tp trace.TracerProvider) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		tr := tp.Tracer("bench")
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			buf := make([]byte, 1)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				ctx, root := tr.Start(context.Background(), "orders.place", spanAttrs)
				for range 9 {
					_, s := tr.Start(ctx, "orders.step", spanAttrs)
					s.End()
				}
				root.End()
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("no-tracing", func(b *testing.B) {
		roundTrip(b, tracenoop.NewTracerProvider())
	})
	b.Run("sdk-batcher", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}))
		defer tp.Shutdown(context.Background())
		roundTrip(b, tp)
	})
	b.Run("otelsetup.Setup", func(b *testing.B) {
		p := setupTracing(b, discardExporter{}, otelsetup.WithoutRedaction(), otelsetup.WithoutBusinessBaggage())
		roundTrip(b, p.TracerProvider)
	})
}
