package shop

import "github.com/otelkit/otelkit/tracing"

// The checkout domain's business keys. They are the example's own, declared
// as a company declares its keys: package-level variables in one package
// that every service imports, so that each key is registered (its type,
// whether it is personal data, whether it travels in baggage) before the
// first request, and spelled the same in every service. tracing declares
// only the generic ones, tracing.UserID and tracing.TenantID.
var (
	// OrderID identifies an order in every service that handles it.
	OrderID = tracing.NewStringKey("order.id", tracing.Travels())
	// OrderAmount is the order total in OrderCurrency units.
	OrderAmount = tracing.NewFloat64Key("order.amount", tracing.Travels())
	// OrderCurrency is the ISO 4217 code of OrderAmount.
	OrderCurrency = tracing.NewStringKey("order.currency", tracing.Travels())
	// OrderItemCount is the number of items in the order.
	OrderItemCount = tracing.NewInt64Key("order.item_count", tracing.Travels())
	// PaymentProviderName names the payment provider that charges the
	// order (payment.provider). It is set where the provider is chosen and
	// does not travel.
	PaymentProviderName = tracing.NewStringKey("payment.provider")
)
