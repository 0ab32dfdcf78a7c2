package bench

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
)

type nullExporter struct{}

func (nullExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nullExporter) Shutdown(context.Context) error                             { return nil }

// globalProvider installs a provider sampling with s into a discarding batch
// exporter as the global one, as tracing.Setup does.
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
		tracing.OrderID.String("o-42"), tracing.UserID.String("u-7"), tracing.TenantID.String("t-1"),
		tracing.OrderAmount.Float64(99.5), tracing.OrderItemCount.Int(3))
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
		run(b, globalProvider(b, sdktrace.AlwaysSample(), sdktrace.WithSpanProcessor(tracing.NewBaggageSpanProcessor())), false)
	})
}

// BenchmarkRedaction measures the redacting exporter per exported span: a
// typical span with nothing to redact and one with secrets and personal
// data in span, event and link attributes, against the plain exporter.
func BenchmarkRedaction(b *testing.B) {
	clean := tracetest.SpanStub{
		Name: "orders.persist",
		Attributes: []attribute.KeyValue{
			tracing.OrderID.String("o-42"), tracing.OrderItemCount.Int(3),
			attribute.String("db.system.name", "postgresql"),
			attribute.String("db.query.text", "INSERT INTO orders (id, user_id, amount) VALUES ($1, $2, $3)"),
			attribute.String("db.query.summary", "INSERT orders"),
			attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 5432),
			attribute.String("http.route", "/orders/{id}"),
		},
	}.Snapshot()
	dirty := tracetest.SpanStub{
		Name: "payments.charge",
		Attributes: []attribute.KeyValue{
			tracing.OrderID.String("o-42"), tracing.UserID.String("u-7"),
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
	redacting := tracing.NewRedactor(tracing.RedactionRules{}).Exporter(nullExporter{})
	for _, tc := range []struct {
		name string
		span sdktrace.ReadOnlySpan
	}{{"clean", clean}, {"secrets", dirty}} {
		spans := []sdktrace.ReadOnlySpan{tc.span}
		b.Run(tc.name+"/plain", func(b *testing.B) {
			var e sdktrace.SpanExporter = nullExporter{}
			b.ReportAllocs()
			for b.Loop() {
				_ = e.ExportSpans(context.Background(), spans)
			}
		})
		b.Run(tc.name+"/redacted", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = redacting.ExportSpans(context.Background(), spans)
			}
		})
	}
}
