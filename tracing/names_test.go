package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, name := range []string{
		"checkout.charge_payment",
		"inventory.validate_stock_levels",
		"payments.provider.charge",
		"oauth2.exchange_code",
		"a.b",
	} {
		if err := ValidName(name); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{
		"",
		"checkout",
		"Checkout.ChargePayment",
		"checkout.chargePayment",
		"checkout..charge",
		".charge",
		"checkout.",
		"checkout._charge",
		"checkout.charge_",
		"checkout.charge__payment",
		"checkout.2charge",
		"orders.get_12345",
		"GET /orders/{id}",
		"orders.get/42",
		"checkout-charge.payment",
		strings.Repeat("a", 60) + "." + strings.Repeat("b", 60),
	} {
		err := ValidName(name)
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", name, err)
		}
	}
}

func TestStart_InvalidNameReportedOncePerNameAndSpanStillCreated(t *testing.T) {
	errs := captureErrors(t)
	tp, exp := newRecorder(t)
	ctx := rootCtx(t, tp)
	name := fmt.Sprintf("Orders.Get%d", 7) // unique to this test: reports are once per process
	for range 3 {
		_, span := Start(ctx, name)
		span.End()
	}
	if n := len(exp.GetSpans()); n != 3 {
		t.Fatalf("%d spans exported, want 3: the span is created whatever its name", n)
	}
	got := errs()
	if len(got) != 1 || !errors.Is(got[0], ErrInvalidName) || !strings.Contains(got[0].Error(), name) {
		t.Fatalf("reports = %v, want one ErrInvalidName naming %q", got, name)
	}
}

func TestStart_InvalidNameReportsAreBounded(t *testing.T) {
	errs := captureErrors(t)
	t.Cleanup(func() {
		reported.mu.Lock()
		reported.names, reported.suppressed = nil, false
		reported.mu.Unlock()
	})
	tp, _ := newRecorder(t)
	ctx := rootCtx(t, tp)
	for i := range 2 * maxReportedNames {
		_, span := Start(ctx, fmt.Sprintf("bounded.id_%07d", i))
		span.End()
	}
	reported.mu.Lock()
	n := len(reported.names)
	reported.mu.Unlock()
	if n > maxReportedNames {
		t.Errorf("%d names remembered, want at most %d", n, maxReportedNames)
	}
	if got := len(errs()); got > maxReportedNames+1 {
		t.Errorf("%d reports for data-built names, want at most %d", got, maxReportedNames+1)
	}
}

func TestStrictNames_FailsInsteadOfReporting(t *testing.T) {
	errs := captureErrors(t)
	tp, exp := newRecorder(t)
	var failed []string
	stop := StrictNames(tp, func(name string, err error) { failed = append(failed, name) })
	ctx := rootCtx(t, tp)
	_, span := Start(ctx, "strict.Bad")
	span.End()
	_, span = Start(ctx, "strict.good")
	span.End()
	stop()
	_, span = Start(context.Background(), "strict.Bad") // global provider: no strict mode
	span.End()
	if len(failed) != 1 || failed[0] != "strict.Bad" {
		t.Errorf("strict failures = %v, want [strict.Bad]", failed)
	}
	if len(exp.GetSpans()) != 2 {
		t.Errorf("spans = %d, want 2", len(exp.GetSpans()))
	}
	if len(errs()) != 1 {
		t.Errorf("reports after stop = %v, want one", errs())
	}
}
