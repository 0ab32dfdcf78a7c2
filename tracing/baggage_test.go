package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

func TestSetBusiness_TravelsAcrossHTTPToDownstreamSpans(t *testing.T) {
	rec := newRecorder(t)
	gatewayTP, ordersTP := rec.Service("gateway"), rec.Service("orders")
	prop := tracingtest.Propagator()

	orders := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := ordersTP.Tracer("orders").Start(ctx, "POST /orders")
		defer span.End()
		_ = tracing.Run(ctx, "orders.persist", func(context.Context) error { return nil })
	}))
	defer orders.Close()

	ctx, edge := gatewayTP.Tracer("gateway").Start(context.Background(), "POST /checkout")
	ctx = tracing.SetBusiness(ctx,
		OrderID.String("o-42"), tracing.UserID.String("u-7"), OrderAmount.Float64(99.5),
		OrderItemCount.Int(3), PaymentProvider.String("stripe"),
	)
	// A third party's member rides along; it must not reach a span.
	m, _ := baggage.NewMember("evil.key", "x")
	bag, _ := baggage.FromContext(ctx).SetMember(m)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	_, child := tracing.Start(ctx, "checkout.call_orders")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, orders.URL, nil)
	prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	child.End()
	edge.End()

	want := []attribute.KeyValue{
		OrderAmount.Float64(99.5), OrderID.String("o-42"), OrderItemCount.Int(3), tracing.UserID.String("u-7"),
	}
	if got := tracing.Business(ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Business = %v, want %v", got, want)
	}
	// SetBusiness sets payment.provider on the current span only.
	rec.AssertAttrs(t, rec.Span(t, "POST /checkout", tracingtest.InService("gateway")), PaymentProvider.String("stripe"))
	for _, s := range []sdktrace.ReadOnlySpan{
		rec.Span(t, "checkout.call_orders", tracingtest.InService("gateway")),
		rec.Span(t, "POST /orders", tracingtest.InService("orders")),
		rec.Span(t, "orders.persist", tracingtest.InService("orders")),
	} {
		rec.AssertAttrs(t, s, want...)
		rec.AssertNoAttrs(t, s, "evil.key", PaymentProvider.Key()) // not copied from baggage
	}
}

// W3C Baggage limits (https://www.w3.org/TR/baggage/#limits).
const (
	maxBaggageMembers = 64
	maxBaggageBytes   = 8192
)

func TestSetBusiness_KeyThatDoesNotFitIsReported(t *testing.T) {
	errs := tracingtest.Reports(t)
	rec := newRecorder(t)
	ctx := rootCtx(t, rec.TracerProvider())
	// 60 foreign members of 133 bytes: order.id still fits, tenant.id not.
	var members []baggage.Member
	for i := range 60 {
		m, err := baggage.NewMemberRaw(fmt.Sprintf("vendor%02d", i), strings.Repeat("v", 124))
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	bag, err := baggage.New(members...)
	if err != nil {
		t.Fatal(err)
	}
	ctx = baggage.ContextWithBaggage(ctx, bag)
	ctx, span := tracing.Start(ctx, "checkout.start")
	ctx = tracing.SetBusiness(ctx, OrderID.String("o-1"), tracing.TenantID.String(strings.Repeat("t", 250)))
	span.End()

	got := baggage.FromContext(ctx)
	if got.Len() > maxBaggageMembers || len(got.String()) > maxBaggageBytes {
		t.Fatalf("baggage over the W3C limits: %d members, %d bytes", got.Len(), len(got.String()))
	}
	if got.Member("order.id").Value() != "o-1" {
		t.Errorf("order.id should fit: %q", got.Member("order.id").Value())
	}
	if got.Member("tenant.id").Key() != "" {
		t.Errorf("tenant.id should not fit")
	}
	var full []error
	for _, e := range errs() {
		if errors.Is(e, tracing.ErrBaggageFull) {
			full = append(full, e)
		}
	}
	if len(full) != 1 || !strings.Contains(full[0].Error(), "tenant.id") {
		t.Errorf("reports = %v, want one tracing.ErrBaggageFull for tenant.id", errs())
	}
	// It is not lost: the current span has it.
	rec.AssertAttrs(t, rec.Span(t, "checkout.start"), tracing.TenantID.String(strings.Repeat("t", 250)))
}

func TestSetBusiness_WrongTypeIsReportedAndSkipped(t *testing.T) {
	errs := tracingtest.Reports(t)
	ctx := tracing.SetBusiness(context.Background(), attribute.String("order.item_count", "three"), attribute.String("team.flag", "x"))
	if got := tracing.Business(ctx); len(got) != 0 {
		t.Errorf("Business = %v, want none", got)
	}
	if len(errs()) != 1 {
		t.Errorf("reports = %v, want one", errs())
	}
}

func TestBusiness_HostileInboundBaggage(t *testing.T) {
	rec := newRecorder(t)
	for name, header := range map[string]string{
		"thousands of members": strings.Repeat("order.id=a,", 5000),
		"too long":             "order.id=" + strings.Repeat("x", 9000),
		"long value":           "order.id=" + strings.Repeat("x", 300),
		"invalid utf-8":        "order.id=%ff%fe",
		"not a number":         "order.item_count=lots,order.amount=NaN",
		"malformed":            "order.id,=;;==,order.amount=1e400",
	} {
		t.Run(name, func(t *testing.T) {
			rec.Reset()
			ctx := tracingtest.Propagator().Extract(context.Background(), propagation.MapCarrier{"baggage": header})
			if got := tracing.Business(ctx); len(got) != 0 {
				t.Errorf("Business = %v, want none", got)
			}
			_, span := rec.TracerProvider().Tracer("t").Start(ctx, "orders.create")
			span.End()
			for _, kv := range rec.Span(t, "orders.create").Attributes() {
				t.Errorf("hostile baggage reached the span: %v", kv)
			}
		})
	}
}

func TestRegister_Rules(t *testing.T) {
	if err := tracing.Register(tracing.KeyInfo{Key: "order.id", Type: attribute.STRING, Travels: true}); err != nil {
		t.Errorf("re-registering the same key: %v", err)
	}
	for _, bad := range []tracing.KeyInfo{
		{Key: "order.id", Type: attribute.INT64},
		{Key: "OrderRef", Type: attribute.STRING},
		{Key: "team.tags", Type: attribute.STRINGSLICE},
		{Key: "team.email", Type: attribute.STRING, Travels: true, Personal: tracing.DropPersonal},
	} {
		if err := tracing.Register(bad); err == nil {
			t.Errorf("Register(%+v) succeeded", bad)
		}
	}
	shop := tracing.NewStringKey("shop.region_code", tracing.Travels())
	ctx := tracing.SetBusiness(context.Background(), shop.String("eu"))
	if got := tracing.Business(ctx); len(got) != 1 || got[0] != shop.String("eu") {
		t.Errorf("a team's key does not travel: %v", got)
	}
	if info, ok := tracing.LookupKey("user.id"); !ok || info.Personal != tracing.HashPersonal || !info.Travels {
		t.Errorf("user.id = %+v", info)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("conflicting tracing.NewInt64Key did not panic")
		}
	}()
	tracing.NewInt64Key("shop.region_code")
}
