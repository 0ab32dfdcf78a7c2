package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/tracing"
)

// A request sets its business context once; every later span carries it,
// the failing step records its error, and the provider key is masked and the
// user id hashed before export.
func Example_conventions() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()),
		sdktrace.WithSyncer(pipeline.NewRedactingExporter(exp, nil)),
	)
	defer tp.Shutdown(context.Background())

	// The edge's server span; the helpers use its provider.
	ctx, edge := tp.Tracer("gateway").Start(context.Background(), "POST /checkout")
	ctx = tracing.SetBusiness(ctx, OrderID.String("o-42"), tracing.UserID.String("u-7"))
	err := tracing.Run(ctx, "checkout.charge_payment", func(ctx context.Context) error {
		trace.SpanFromContext(ctx).SetAttributes(
			PaymentProvider.String("stripe"),
			attribute.String("payment.provider.key", "pk_live_abcdefghijklmnopxyz"),
		)
		return errors.New("card declined")
	})
	edge.End()

	fmt.Println("returned:", err)
	for _, s := range exp.GetSpans() {
		fmt.Printf("%s status=%s %q\n", s.Name, s.Status.Code, s.Status.Description)
		attrs := make([]string, 0, len(s.Attributes))
		for _, kv := range s.Attributes {
			attrs = append(attrs, fmt.Sprintf("  %s=%s", kv.Key, kv.Value.String()))
		}
		sort.Strings(attrs)
		for _, a := range attrs {
			fmt.Println(a)
		}
	}
	// Output:
	// returned: card declined
	// checkout.charge_payment status=Error "card declined"
	//   error.type=*errors.errorString
	//   order.id=o-42
	//   payment.provider.key=pk_live_abc...xyz
	//   payment.provider=stripe
	//   user.id=sha256:bf9023e0fc14f272cb98cf9d5c5f3e5c
	// POST /checkout status=Unset ""
	//   order.id=o-42
	//   user.id=sha256:bf9023e0fc14f272cb98cf9d5c5f3e5c
}

func ExampleValidName() {
	for _, name := range []string{"inventory.validate_stock_levels", "validateStock", "orders.get_12345"} {
		fmt.Println(name, "->", tracing.ValidName(name))
	}
	// Output:
	// inventory.validate_stock_levels -> <nil>
	// validateStock -> tracing: span name does not follow <domain>.<operation>: "validateStock": upper case
	// orders.get_12345 -> tracing: span name does not follow <domain>.<operation>: "orders.get_12345": contains an id
}

// A team registers its own business keys next to the company's.
func ExampleNewStringKey() {
	var (
		loyaltyTier = tracing.NewStringKey("loyalty.tier", tracing.Travels())
		email       = tracing.NewStringKey("customer.email", tracing.PersonalData(tracing.DropPersonal))
	)
	ctx := tracing.SetBusiness(context.Background(), OrderID.String("o-42"), loyaltyTier.String("gold"), email.String("a@example.com"))
	fmt.Println("travels:", tracing.Business(ctx))
	fmt.Println("exported email valid:", tracing.RedactAttr(email.String("a@example.com")).Valid())
	// Output:
	// travels: [{"loyalty.tier":"gold"} {"order.id":"o-42"}]
	// exported email valid: false
}

func ExampleRedactAttr() {
	for _, kv := range []attribute.KeyValue{
		attribute.String("http.request.header.authorization", "Bearer abcdefghijklmnopqrstuvwxyz"),
		attribute.String("exception.message", "card 4111 1111 1111 1111 declined"),
		attribute.String("db.password", "hunter2"),
		tracing.UserID.String("u-7"),
		OrderID.String("o-42"),
	} {
		fmt.Printf("%s=%s\n", kv.Key, tracing.RedactAttr(kv).Value.String())
	}
	// Output:
	// http.request.header.authorization=Bearer abc...xyz
	// exception.message=card ****1111 declined
	// db.password=***
	// user.id=sha256:bf9023e0fc14f272cb98cf9d5c5f3e5c
	// order.id=o-42
}
