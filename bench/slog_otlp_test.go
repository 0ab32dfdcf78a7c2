package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/logcorr"
	"github.com/otelkit/otelkit/sdk/otelsetup"
)

// otlpLogs returns the LoggerProvider otelsetup.Setup builds for a service
// whose OTLP endpoint is an HTTP server on loopback that accepts and
// discards every export.
func otlpLogs(b *testing.B) otelsetup.Providers {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(srv.Close)
	b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	b.Setenv("OTEL_TRACES_EXPORTER", "none")
	b.Setenv("OTEL_METRICS_EXPORTER", "none")
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("bench"), otelsetup.WithoutGlobals(&p))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = shutdown(context.Background()) })
	return p
}

// BenchmarkSlogOTLP logs one record with two attributes to a JSON handler
// writing to io.Discard and, as an OpenTelemetry log record, to the
// LoggerProvider Setup builds for an OTLP/HTTP collector: through logcorr
// with WithLoggerProvider, against the same fan-out composed by hand with
// slog.NewMultiHandler, logcorr around the JSON handler and the otelslog
// bridge. The hand-written composition does not redact the OpenTelemetry
// records; logcorr does.
//
// With the OTLP pipeline the figures include the exporting goroutine's work
// (and the records the bounded queue drops when the loop outruns the
// export), so the allocation counts wander; BenchmarkSlogOTLPDiscard
// measures the logging call alone.
func BenchmarkSlogOTLP(b *testing.B) {
	benchFanOut(b, otlpLogs(b).LoggerProvider)
}

// BenchmarkSlogOTLPDiscard is BenchmarkSlogOTLP with an SDK LoggerProvider
// whose processor discards the records: the logging call alone, bridge and
// SDK included.
func BenchmarkSlogOTLPDiscard(b *testing.B) {
	benchFanOut(b, sdklog.NewLoggerProvider(sdklog.WithProcessor(discardLogs{})))
}

type discardLogs struct{}

func (discardLogs) OnEmit(context.Context, *sdklog.Record) error { return nil }
func (discardLogs) Enabled(context.Context, sdklog.EnabledParameters) bool {
	return true
}
func (discardLogs) Shutdown(context.Context) error   { return nil }
func (discardLogs) ForceFlush(context.Context) error { return nil }

func benchFanOut(b *testing.B, lp otellog.LoggerProvider) {
	spanCtx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	}))
	multi := slog.New(slog.NewMultiHandler(
		logcorr.NewHandler(slog.NewJSONHandler(io.Discard, nil)),
		otelslog.NewHandler(logcorr.ScopeName, otelslog.WithLoggerProvider(lp)),
	))
	fanout := logcorr.NewLogger(io.Discard, logcorr.WithLoggerProvider(lp))
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"ctx=nospan", context.Background()}, {"ctx=span", spanCtx}} {
		for _, l := range []struct {
			name string
			l    *slog.Logger
		}{{"impl=multihandler", multi}, {"impl=logcorr", fanout}} {
			b.Run(c.name+"/"+l.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					l.l.InfoContext(c.ctx, "order accepted", "order", "ord-1042", "items", 3)
				}
			})
		}
		// The same, interleaved on one thread: the CPU of the logging call
		// alone, without the exporting goroutine's.
		b.Run(c.name+"/paired", func(b *testing.B) {
			paired(b, "multihandler", func() {
				multi.InfoContext(c.ctx, "order accepted", "order", "ord-1042", "items", 3)
			}, "logcorr", func() {
				fanout.InfoContext(c.ctx, "order accepted", "order", "ord-1042", "items", 3)
			})
		})
	}
}
