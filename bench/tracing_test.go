package bench

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/examples/checkout/shop"
	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/tracing"
)

type nullExporter struct{}

func (nullExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nullExporter) Shutdown(context.Context) error                             { return nil }

// globalProvider installs a provider sampling with s into a discarding batch
// exporter as the global one, as otelsetup.Setup does.
func globalProvider(b *testing.B, s sdktrace.Sampler, opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	opts = append(opts, sdktrace.WithSampler(s), sdktrace.WithBatcher(nullExporter{}))
	tp := sdktrace.NewTracerProvider(opts...)
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	b.Cleanup(func() {
		otel.SetTracerProvider(prev)
		_ = tp.Shutdown(context.Background())
	})
	return tp
}

func work(context.Context) error { return nil }

// BenchmarkHelpers compares tracing.Start/End and tracing.Run with the raw
// tracer.Start/span.End a user would write instead, for a recording span and
// for one the sampler drops.
func BenchmarkHelpers(b *testing.B) {
	for _, mode := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{
		{"recording", sdktrace.AlwaysSample()},
		{"non-recording", sdktrace.NeverSample()},
	} {
		b.Run(mode.name+"/raw", func(b *testing.B) {
			tr := globalProvider(b, mode.sampler).Tracer("bench")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, span := tr.Start(ctx, "checkout.charge_payment")
				var err error
				if err = work(ctx); err != nil {
					span.SetStatus(codes.Error, err.Error())
				}
				span.End()
			}
		})
		b.Run(mode.name+"/Start-End", func(b *testing.B) {
			globalProvider(b, mode.sampler)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				func() (err error) {
					ctx, span := tracing.Start(ctx, "checkout.charge_payment")
					defer tracing.End(span, &err)
					return work(ctx)
				}()
			}
		})
		b.Run(mode.name+"/Run", func(b *testing.B) {
			globalProvider(b, mode.sampler)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_ = tracing.Run(ctx, "checkout.charge_payment", work)
			}
		})
	}
}

// BenchmarkBaggageCopy measures the business baggage processor: a span
// started under five business members (and two foreign ones) with the
// processor, against the same span without it and against setting the five
// attributes by hand.
func BenchmarkBaggageCopy(b *testing.B) {
	ctx := tracing.SetBusiness(context.Background(),
		shop.OrderID.String("o-42"), tracing.UserID.String("u-7"), tracing.TenantID.String("t-1"),
		shop.OrderAmount.Float64(99.5), shop.OrderItemCount.Int(3))
	bag := baggage.FromContext(ctx)
	for _, kv := range [][2]string{{"vendor.session", "abc"}, {"ab.test", "b"}} {
		m, _ := baggage.NewMember(kv[0], kv[1])
		bag, _ = bag.SetMember(m)
	}
	ctx = baggage.ContextWithBaggage(ctx, bag)
	byHand := tracing.Business(ctx)
	run := func(b *testing.B, tp *sdktrace.TracerProvider, set bool) {
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			_, span := tr.Start(ctx, "orders.persist")
			if set {
				span.SetAttributes(byHand...)
			}
			span.End()
		}
	}
	b.Run("without", func(b *testing.B) { run(b, globalProvider(b, sdktrace.AlwaysSample()), false) })
	b.Run("by-hand", func(b *testing.B) { run(b, globalProvider(b, sdktrace.AlwaysSample()), true) })
	b.Run("processor", func(b *testing.B) {
		run(b, globalProvider(b, sdktrace.AlwaysSample(), sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor())), false)
	})
}

// BenchmarkRedaction measures the redacting exporter per exported span: a
// typical span and an HTTP client span with nothing to redact, one with
// secrets and personal data in span, event and link attributes, and one
// with them in free text (a URL query, a connection string, a conninfo
// password, an e-mail address), against the plain exporter.
func BenchmarkRedaction(b *testing.B) {
	cases := []struct {
		name  string
		spans []sdktrace.ReadOnlySpan
	}{
		{"clean", []sdktrace.ReadOnlySpan{cleanSpan}},
		{"clean-http-client", []sdktrace.ReadOnlySpan{cleanClientSpan}},
		{"secrets", []sdktrace.ReadOnlySpan{dirtySpan}},
		{"secrets-in-text", []sdktrace.ReadOnlySpan{dirtyTextSpan}},
		// 32 spans in one call, as the batch span processor exports them.
		{"secrets-batch", slices.Repeat([]sdktrace.ReadOnlySpan{dirtySpan}, 32)},
	}
	redacting := pipeline.NewRedactingExporter(nullExporter{}, nil)
	for _, tc := range cases {
		spans := tc.spans
		b.Run(tc.name+"/plain", func(b *testing.B) {
			var e sdktrace.SpanExporter = nullExporter{}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				_ = e.ExportSpans(context.Background(), spans)
			}
			reportCPU(b, cpu)
		})
		b.Run(tc.name+"/redacted", func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				_ = redacting.ExportSpans(context.Background(), spans)
			}
			reportCPU(b, cpu)
		})
	}
}

var cleanSpan = tracetest.SpanStub{
	Name: "orders.persist",
	Attributes: []attribute.KeyValue{
		shop.OrderID.String("o-42"), shop.OrderItemCount.Int(3),
		attribute.String("db.system.name", "postgresql"),
		attribute.String("db.query.text", "INSERT INTO orders (id, user_id, amount) VALUES ($1, $2, $3)"),
		attribute.String("db.query.summary", "INSERT orders"),
		attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 5432),
		attribute.String("http.route", "/orders/{id}"),
	},
}.Snapshot()

// cleanClientSpan is an HTTP client span with a query and an error
// description: text the scan reads and leaves as it is.
var cleanClientSpan = tracetest.SpanStub{
	Name: "GET",
	Attributes: []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("url.full", "https://recs.internal:8443/recommendations?limit=3&page=2"),
		attribute.String("server.address", "recs.internal"), attribute.Int("server.port", 8443),
		attribute.String("network.protocol.version", "1.1"), attribute.Int("http.response.status_code", 503),
		attribute.String("error.type", "503"), attribute.String("user_agent.original", "Go-http-client/1.1"),
	},
	Status: sdktrace.Status{Code: codes.Error, Description: "dial tcp 10.0.0.7:8443: connect: connection refused"},
}.Snapshot()

// dirtyTextSpan holds secrets and an e-mail address in free text: a query,
// a connection string, a conninfo password.
var dirtyTextSpan = tracetest.SpanStub{
	Name: "GET",
	Attributes: []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("url.full", "https://api.provider.test/v1/charges?api_key=k9f8e7d6c5&limit=3"),
		attribute.String("server.address", "api.provider.test"), attribute.Int("server.port", 443),
	},
	Events: []sdktrace.Event{{Name: "exception", Attributes: []attribute.KeyValue{
		attribute.String("exception.message", "dial postgres://app:hunter2@db/shop: no account for jane.doe@example.com"),
	}}},
	Status: sdktrace.Status{Code: codes.Error, Description: "connect host=db password=hunter2 user=app: refused"},
}.Snapshot()

var dirtySpan = tracetest.SpanStub{
	Name: "payments.charge",
	Attributes: []attribute.KeyValue{
		shop.OrderID.String("o-42"), tracing.UserID.String("u-7"),
		attribute.String("http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz"),
		attribute.String("payment.provider.key", "pk_live_abcdefghijklmnopxyz"),
		attribute.String("server.address", "api.provider.test"), attribute.Int("http.response.status_code", 402),
	},
	Events: []sdktrace.Event{{Name: "exception", Attributes: []attribute.KeyValue{
		attribute.String("exception.message", "card 4111 1111 1111 1111 declined"),
	}}},
	Links: []sdktrace.Link{{SpanContext: trace.SpanContext{}, Attributes: []attribute.KeyValue{
		attribute.String("auth.token", "tok_abcdefghijklmnopqrstuv"),
	}}},
}.Snapshot()

// BenchmarkHelpersPaired runs raw spans and helper spans in alternating
// blocks within one benchmark and reports the CPU time each side spent on
// the benchmark's thread per span, and the difference. On a shared,
// oversubscribed machine wall-clock ns/op mostly measures waiting for a CPU;
// thread CPU time in interleaved blocks does not.
func BenchmarkHelpersPaired(b *testing.B) {
	for _, mode := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{
		{"recording", sdktrace.AlwaysSample()},
		{"non-recording", sdktrace.NeverSample()},
	} {
		b.Run(mode.name, func(b *testing.B) {
			tr := globalProvider(b, mode.sampler).Tracer("bench")
			ctx := context.Background()
			paired(b, "raw", func() {
				_, span := tr.Start(ctx, "checkout.charge_payment")
				var err error
				if err = work(ctx); err != nil {
					span.SetStatus(codes.Error, err.Error())
				}
				span.End()
			}, "helper", func() {
				func() (err error) {
					ctx, span := tracing.Start(ctx, "checkout.charge_payment")
					defer tracing.End(span, &err)
					return work(ctx)
				}()
			})
		})
	}
}

// BenchmarkConventionsPaired measures, as BenchmarkHelpersPaired does, the
// CPU cost per span of copying business baggage (five members, against
// setting the same five attributes by hand) and of redaction at export.
func BenchmarkConventionsPaired(b *testing.B) {
	b.Run("baggage-copy", func(b *testing.B) {
		ctx := tracing.SetBusiness(context.Background(),
			shop.OrderID.String("o-42"), tracing.UserID.String("u-7"), tracing.TenantID.String("t-1"),
			shop.OrderAmount.Float64(99.5), shop.OrderItemCount.Int(3))
		byHand := tracing.Business(ctx)
		plain := globalProvider(b, sdktrace.AlwaysSample()).Tracer("bench")
		copying := globalProvider(b, sdktrace.AlwaysSample(), sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor())).Tracer("bench")
		paired(b, "by-hand", func() {
			_, span := plain.Start(ctx, "orders.persist")
			span.SetAttributes(byHand...)
			span.End()
		}, "copying", func() {
			_, span := copying.Start(ctx, "orders.persist")
			span.End()
		})
	})
	for _, tc := range []struct {
		name string
		span sdktrace.ReadOnlySpan
	}{{"redact-clean", cleanSpan}, {"redact-secrets", dirtySpan}} {
		b.Run(tc.name, func(b *testing.B) {
			spans := []sdktrace.ReadOnlySpan{tc.span}
			var plain sdktrace.SpanExporter = nullExporter{}
			redacting := pipeline.NewRedactingExporter(nullExporter{}, nil)
			paired(b, "plain", func() { _ = plain.ExportSpans(context.Background(), spans) },
				"redacted", func() { _ = redacting.ExportSpans(context.Background(), spans) })
		})
	}
}

// paired runs base and cand in alternating blocks of 256 calls on one
// locked OS thread and reports the thread CPU time per call of each, and
// cand's extra cost in ns and percent.
func paired(b *testing.B, baseName string, base func(), candName string, cand func()) {
	pairedBlocks(b, 256, baseName, base, candName, cand)
}

// pairedBlocks is paired with blocks of the given number of calls: short
// blocks spread the load of other processes evenly over both sides of a
// call that takes microseconds.
func pairedBlocks(b *testing.B, block int, baseName string, base func(), candName string, cand func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var baseCPU, candCPU time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		t0 := threadCPU()
		for range block {
			base()
		}
		t1 := threadCPU()
		for range block {
			cand()
		}
		t2 := threadCPU()
		baseCPU += t1 - t0
		candCPU += t2 - t1
		n += block
	}
	b.ReportMetric(float64(baseCPU.Nanoseconds())/float64(n), baseName+"-cpu-ns/call")
	b.ReportMetric(float64(candCPU.Nanoseconds())/float64(n), candName+"-cpu-ns/call")
	b.ReportMetric(float64((candCPU-baseCPU).Nanoseconds())/float64(n), "delta-cpu-ns/call")
	if baseCPU > 0 {
		b.ReportMetric(100*float64(candCPU-baseCPU)/float64(baseCPU), "delta-%")
	}
}
