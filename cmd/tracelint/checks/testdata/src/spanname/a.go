package spanname

import (
	"context"
	"fmt"

	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/trace"
)

const chargeName = "checkout.charge_payment"

const badConst = "ChargePayment"

func good(ctx context.Context, tr trace.Tracer) {
	ctx, span := tracing.Start(ctx, "checkout.charge_payment")
	defer span.End()
	_, s2 := tracing.Start(ctx, chargeName)
	defer s2.End()
	_, s3 := tr.Start(ctx, "inventory.validate_stock_levels")
	defer s3.End()
	_ = tracing.Run(ctx, "payments.provider.charge", func(context.Context) error { return nil })
}

func bad(ctx context.Context, tr trace.Tracer, orderID, op string) {
	_, s1 := tracing.Start(ctx, "checkout."+orderID) // want `span name is not a constant`
	defer s1.End()
	_, s2 := tracing.Start(ctx, fmt.Sprintf("checkout.%s", op)) // want `span name is not a constant`
	defer s2.End()
	_, s3 := tr.Start(ctx, op) // want `span name is not a constant`
	defer s3.End()
	_ = tracing.Run(ctx, op, func(context.Context) error { return nil }) // want `span name is not a constant`

	_, s4 := tracing.Start(ctx, "Checkout.ChargePayment") // want `span name does not follow .*"Checkout.ChargePayment".*; want "checkout.charge_payment"`
	defer s4.End()
	_, s5 := tr.Start(ctx, "charge") // want `span name does not follow .*"charge"`
	defer s5.End()
	_, s6 := tracing.Start(ctx, badConst) // want `span name does not follow .*"ChargePayment"`
	defer s6.End()
	_, s7 := tracing.Start(ctx, "GET /orders/{id}") // want `span name does not follow .*"GET /orders/{id}"`
	defer s7.End()
	_, s8 := tracing.Start(ctx, "orders.load-order") // want `want "orders.load_order"`
	defer s8.End()
}

// A helper of the caller's own: the directive names the check it silences.
func startOp(ctx context.Context, name string) (context.Context, trace.Span) {
	//tracelint:ignore spanname -- callers pass constant names
	return tracing.Start(ctx, name)
}

func wrongCheckIgnored(ctx context.Context, name string) (context.Context, trace.Span) {
	return tracing.Start(ctx, name) //tracelint:ignore spanend // want `span name is not a constant`
}
