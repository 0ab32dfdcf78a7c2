package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// captureBusinessReports captures the reports of the test, with the
// once-a-minute limits of baggage reports reset before and after it.
func captureBusinessReports(t *testing.T) func() []error {
	t.Helper()
	tracing.ResetBaggageReports()
	t.Cleanup(tracing.ResetBaggageReports)
	return tracingtest.Reports(t)
}

// A refused value is set neither on the span nor in baggage, so it reaches
// no later span, no downstream service and no log line; it is reported once,
// naming the key and never the value.
func TestSetBusiness_RefusesEmptyAndInvalidValues(t *testing.T) {
	tests := []struct {
		name    string
		kv      attribute.KeyValue
		problem string // in the report
	}{
		{"empty", OrderID.String(""), "empty value"},
		{"empty personal", tracing.UserID.String(""), "empty value"},
		{"too long", tracing.TenantID.String(strings.Repeat("t", 257)), "longer than 256"},
		{"invalid UTF-8", OrderID.String("o-\xff\xfe"), "not printable UTF-8"},
		{"control character, personal", tracing.UserID.String("alice@example.com\n"), "not printable UTF-8"},
		{"replacement character", OrderID.String("o-\uFFFD"), "not printable UTF-8"},
		{"wrong type", attribute.String("order.amount", "3"), "is FLOAT64, got STRING"},
		{"wrong type personal", attribute.Int("user.id", 7), "is STRING, got INT64"},
		{"NaN", OrderAmount.Float64(math.NaN()), "not a finite number"},
		{"infinite", OrderAmount.Float64(math.Inf(1)), "not a finite number"},
		{"empty unregistered", attribute.String("team.note", ""), "empty value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracingtest.New(t)
			reports := captureBusinessReports(t)

			ctx, edge := tracing.Start(context.Background(), "checkout.start")
			ctx = tracing.SetBusiness(ctx, OrderItemCount.Int(3), tt.kv)
			_, child := tracing.Start(ctx, "checkout.reserve")
			child.End()
			edge.End()

			// The valid attribute beside it is kept.
			if got, want := fmt.Sprint(tracing.Business(ctx)), fmt.Sprint([]attribute.KeyValue{OrderItemCount.Int(3)}); got != want {
				t.Errorf("Business = %v, want %v", got, want)
			}
			if m := baggage.FromContext(ctx).Member(string(tt.kv.Key)); m.Key() != "" {
				t.Errorf("%s put into baggage: %q", tt.kv.Key, m.Value())
			}
			for _, name := range []string{"checkout.start", "checkout.reserve"} {
				s := rec.Span(t, name)
				rec.AssertAttrs(t, s, OrderItemCount.Int(3))
				rec.AssertNoAttrs(t, s, tt.kv.Key)
			}

			got := reports()
			if len(got) != 1 {
				t.Fatalf("reports = %v, want one", got)
			}
			msg := got[0].Error()
			if !errors.Is(got[0], tracing.ErrBusinessValue) || !strings.Contains(msg, fmt.Sprintf("%q", tt.kv.Key)) || !strings.Contains(msg, tt.problem) {
				t.Errorf("report = %q, want tracing.ErrBusinessValue naming %q and %q", msg, tt.kv.Key, tt.problem)
			}
			if v := tt.kv.Value.String(); len(v) > 1 && strings.Contains(msg, v) {
				t.Errorf("report %q holds the value", msg)
			}
		})
	}
}

// A refused value leaves the value the key held before, in baggage and on
// the spans that follow.
func TestSetBusiness_RefusedValueKeepsThePreviousOne(t *testing.T) {
	rec := tracingtest.New(t)
	captureBusinessReports(t)

	ctx, edge := tracing.Start(context.Background(), "checkout.start")
	ctx = tracing.SetBusiness(ctx, OrderID.String("o-1"))
	ctx = tracing.SetBusiness(ctx, OrderID.String(""))
	_, child := tracing.Start(ctx, "checkout.reserve")
	child.End()
	edge.End()

	if got := baggage.FromContext(ctx).Member("order.id").Value(); got != "o-1" {
		t.Errorf("baggage order.id = %q, want o-1", got)
	}
	rec.AssertAttrs(t, rec.Span(t, "checkout.start"), OrderID.String("o-1"))
	rec.AssertAttrs(t, rec.Span(t, "checkout.reserve"), OrderID.String("o-1"))
}

// Refused values are reported at most once a minute: a value refused on
// every request does not flood the error handler.
func TestSetBusiness_RefusalsAreRateLimited(t *testing.T) {
	tracingtest.New(t)
	reports := captureBusinessReports(t)
	ctx, span := tracing.Start(context.Background(), "checkout.start")
	for range 100 {
		tracing.SetBusiness(ctx, OrderID.String(""), tracing.TenantID.String("\x00"))
	}
	span.End()
	if got := reports(); len(got) != 1 {
		t.Errorf("%d reports, want 1: %v", len(got), got)
	}
}

// An empty business value received in baggage (sent by a service that
// still propagates it) is not copied onto spans either.
func TestBusiness_EmptyInboundValueLeftOut(t *testing.T) {
	rec := tracingtest.New(t)
	captureBusinessReports(t)
	ctx := propagation.Baggage{}.Extract(context.Background(), propagation.MapCarrier{"baggage": "order.id=,tenant.id=shop-1"})
	if got, want := fmt.Sprint(tracing.Business(ctx)), fmt.Sprint([]attribute.KeyValue{tracing.TenantID.String("shop-1")}); got != want {
		t.Errorf("Business = %v, want %v", got, want)
	}
	_, span := tracing.Start(ctx, "orders.create")
	span.End()
	s := rec.Span(t, "orders.create")
	rec.AssertAttrs(t, s, tracing.TenantID.String("shop-1"))
	rec.AssertNoAttrs(t, s, OrderID.Key())
}
