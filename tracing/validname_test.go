package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
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

func TestStart_InvalidNameReportsAreBounded(t *testing.T) {
	forget := func() {
		reported.mu.Lock()
		reported.names, reported.suppressed = nil, false
		reported.mu.Unlock()
	}
	forget()
	t.Cleanup(forget)
	var reports atomic.Int64
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) { reports.Add(1) }))
	// The name check runs whatever the provider: the global no-op one will do.
	for i := range 2 * maxReportedNames {
		_, span := Start(context.Background(), fmt.Sprintf("bounded.id_%07d", i))
		span.End()
	}
	reported.mu.Lock()
	n := len(reported.names)
	reported.mu.Unlock()
	if n > maxReportedNames {
		t.Errorf("%d names remembered, want at most %d", n, maxReportedNames)
	}
	if got := reports.Load(); got != maxReportedNames+1 {
		t.Errorf("%d reports for data-built names, want %d (one per name up to the bound, then one saying so)", got, maxReportedNames+1)
	}
}
