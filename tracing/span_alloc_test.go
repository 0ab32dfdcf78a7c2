//go:build !race

package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The helpers add no allocation to a span that is not recording, and none
// beyond the raw tracer's to one that is.
func TestHelpers_AllocateNoMoreThanTheRawTracer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{
		{"non-recording", sdktrace.NeverSample()},
		{"recording", sdktrace.AlwaysSample()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithSpanProcessor(NewBaggageSpanProcessor()))
			defer tp.Shutdown(context.Background())
			prev := otel.GetTracerProvider()
			otel.SetTracerProvider(tp)
			defer otel.SetTracerProvider(prev)
			tr := tp.Tracer(helperScope)
			ctx := context.Background()
			raw := testing.AllocsPerRun(200, func() {
				_, span := tr.Start(ctx, "checkout.charge_payment")
				span.End()
			})
			helper := testing.AllocsPerRun(200, func() {
				var err error
				_, span := Start(ctx, "checkout.charge_payment")
				End(span, &err)
			})
			run := testing.AllocsPerRun(200, func() {
				_ = Run(ctx, "checkout.charge_payment", noop)
			})
			if helper > raw || run > raw {
				t.Errorf("allocs: raw %v, Start/End %v, Run %v", raw, helper, run)
			}
		})
	}
}

func noop(context.Context) error { return nil }

// Copying business baggage costs at most one allocation per span more than
// setting the same attributes by hand (the slice handed to the span).
func TestBaggageSpanProcessor_Allocs(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewBaggageSpanProcessor()))
	defer tp.Shutdown(context.Background())
	plain := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(nopProcessor{}))
	defer plain.Shutdown(context.Background())
	ctx := SetBusiness(context.Background(), OrderID.String("o-42"), UserID.String("u-7"),
		TenantID.String("t-1"), OrderAmount.Float64(99.5), OrderItemCount.Int(3))
	if baggage.FromContext(ctx).Len() != 5 {
		t.Fatal("baggage not set")
	}
	byHand := Business(ctx)
	measure := func(tp *sdktrace.TracerProvider, set bool) float64 {
		tr := tp.Tracer("t")
		return testing.AllocsPerRun(200, func() {
			_, span := tr.Start(ctx, "orders.persist")
			if set {
				span.SetAttributes(byHand...)
			}
			span.End()
		})
	}
	with, without := measure(tp, false), measure(plain, true)
	if with-without > 1 {
		t.Errorf("baggage copying costs %v allocations per span, setting by hand %v", with, without)
	}
}

// Redaction allocates nothing for a span with nothing to redact.
func TestRedactor_NoAllocsWhenClean(t *testing.T) {
	span := tracetest.SpanStub{
		Name: "orders.persist",
		Attributes: []attribute.KeyValue{
			OrderID.String("o-42"), attribute.String("db.query.text", "SELECT id FROM orders WHERE id = $1"),
			attribute.Int("order.item_count", 3), attribute.String("http.route", "/orders/{id}"),
			// URLs, pairs and text the scan looks into and leaves as they are.
			attribute.String("url.full", "https://recs.test:8443/recommendations?limit=3&page=2#top"),
			attribute.String("url.query", "limit=3&sort=asc"), attribute.String("url.path", "/orders/o-42"),
			attribute.String("db.query.text", "UPDATE users SET token = $1 WHERE id = $2"),
		},
		Status: sdktrace.Status{Code: codes.Error, Description: "dial tcp 10.0.0.7:5432: connect: connection refused"},
	}.Snapshot()
	spans := []sdktrace.ReadOnlySpan{span}
	r := NewRedactor(RedactionRules{})
	if n := testing.AllocsPerRun(200, func() { _ = r.redactSpans(spans) }); n != 0 {
		t.Errorf("redacting a clean span allocates %v times", n)
	}
}

type nopProcessor struct{}

func (nopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (nopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (nopProcessor) Shutdown(context.Context) error                  { return nil }
func (nopProcessor) ForceFlush(context.Context) error                { return nil }
