package tracing_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/tracing"
)

// A company declares its business keys once, as package-level variables of
// a package that every service imports (here the test package; in a
// company, a package of its own such as example.com/acme/telemetry/keys).
// Declaring them registers them when the package initialises, before the
// first request: their type, whether they are personal data and whether
// they travel to downstream services in baggage.
var (
	// OrderID identifies an order in every service that handles it.
	OrderID = tracing.NewStringKey("order.id", tracing.Travels())
	// OrderAmount is the order total, in the shop's currency.
	OrderAmount = tracing.NewFloat64Key("order.amount", tracing.Travels())
	// OrderItemCount is the number of items in the order.
	OrderItemCount = tracing.NewInt64Key("order.item_count", tracing.Travels())
	// PaymentProvider names the provider that charges the order. It stays
	// on the span it is set on.
	PaymentProvider = tracing.NewStringKey("payment.provider")
	// CustomerEmail is personal data that never leaves the process: the
	// export pipeline drops it, and a dropped key cannot travel.
	CustomerEmail = tracing.NewStringKey("customer.email", tracing.PersonalData(tracing.DropPersonal))
)

// The services then set the company's keys next to the generic ones of
// package tracing; only the traveling ones reach downstream spans, and the
// registry tells the export pipeline, the waterfall and the log handler
// what each key is.
func Example_declaringKeys() {
	ctx := tracing.SetBusiness(context.Background(),
		OrderID.String("o-42"), OrderItemCount.Int(3), tracing.UserID.String("u-7"),
		PaymentProvider.String("stripe"))
	fmt.Println("travels:", tracing.Business(ctx))
	keys := []attribute.Key{OrderID.Key(), OrderAmount.Key(), OrderItemCount.Key(), PaymentProvider.Key(), CustomerEmail.Key(), tracing.UserID.Key()}
	for _, k := range keys {
		info, _ := tracing.LookupKey(k)
		fmt.Printf("%s: %s, %s, travels=%t\n", info.Key, info.Type, info.Personal, info.Travels)
	}
	// Output:
	// travels: [{"order.id":"o-42"} {"order.item_count":3} {"user.id":"u-7"}]
	// order.id: STRING, not personal, travels=true
	// order.amount: FLOAT64, not personal, travels=true
	// order.item_count: INT64, not personal, travels=true
	// payment.provider: STRING, not personal, travels=false
	// customer.email: STRING, drop, travels=false
	// user.id: STRING, hash, travels=true
}
