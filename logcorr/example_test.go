package logcorr_test

import (
	"context"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/logcorr"
)

// The ids stay at the root of the line, where log backends look for them,
// even inside a group.
func ExampleNewHandler() {
	json := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime})
	logger := slog.New(logcorr.NewHandler(json))

	// In a service, ctx comes from a span started by the instrumentation.
	ctx := sampledSpan()

	logger.With("service", "payments").WithGroup("charge").ErrorContext(ctx, "card declined", "attempt", 2)
	logger.Info("no span in context: the record passes through unchanged")
	// Output:
	// {"level":"ERROR","msg":"card declined","service":"payments","charge":{"attempt":2},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"}
	// {"level":"INFO","msg":"no span in context: the record passes through unchanged"}
}

// Google Cloud Logging links a line to its trace through its own field names.
func ExampleGoogleCloud() {
	json := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime})
	logger := slog.New(logcorr.NewHandler(json,
		logcorr.WithSchema(logcorr.GoogleCloud("shop-prod")),
		logcorr.WithTraceURL("", "http://localhost:16686/trace/{trace_id}"),
	))
	ctx := sampledSpan()
	logger.InfoContext(ctx, "order accepted")
	// Output:
	// {"level":"INFO","msg":"order accepted","logging.googleapis.com/trace":"projects/shop-prod/traces/4bf92f3577b34da6a3ce929d0e0e4736","logging.googleapis.com/spanId":"00f067aa0ba902b7","logging.googleapis.com/trace_sampled":true,"trace_url":"http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"}
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// sampledSpan stands for the context of a span started by instrumentation.
func sampledSpan() context.Context {
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	}))
}
