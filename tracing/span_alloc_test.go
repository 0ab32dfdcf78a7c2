//go:build !race

package tracing_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/tracing"
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
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()))
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
				_, span := tracing.Start(ctx, "checkout.charge_payment")
				tracing.End(span, &err)
			})
			run := testing.AllocsPerRun(200, func() {
				_ = tracing.Run(ctx, "checkout.charge_payment", noop)
			})
			if helper > raw || run > raw {
				t.Errorf("allocs: raw %v, tracing.Start/tracing.End %v, tracing.Run %v", raw, helper, run)
			}
		})
	}
}

func noop(context.Context) error { return nil }

// Copying business baggage costs at most one allocation per span more than
// setting the same attributes by hand (the slice handed to the span).
func TestBaggageSpanProcessor_Allocs(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()))
	defer tp.Shutdown(context.Background())
	plain := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(nopProcessor{}))
	defer plain.Shutdown(context.Background())
	ctx := tracing.SetBusiness(context.Background(), OrderID.String("o-42"), tracing.UserID.String("u-7"),
		tracing.TenantID.String("t-1"), OrderAmount.Float64(99.5), OrderItemCount.Int(3))
	if baggage.FromContext(ctx).Len() != 5 {
		t.Fatal("baggage not set")
	}
	byHand := tracing.Business(ctx)
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

type nopProcessor struct{}

func (nopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (nopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (nopProcessor) Shutdown(context.Context) error                  { return nil }
func (nopProcessor) ForceFlush(context.Context) error                { return nil }
