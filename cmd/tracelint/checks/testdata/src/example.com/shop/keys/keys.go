package keys // want package:"keys order.id:String:OrderID order.item_count:Int64:OrderItemCount order.gift_wrap:Bool:giftWrap payment.provider:String \\+2 from dependencies}"

// Package keys declares a company's business keys, as a company does.

import (
	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/attribute"
)

const orderIDName = "order.id"

var (
	OrderID        = tracing.NewStringKey(orderIDName, tracing.Travels())
	OrderItemCount = tracing.NewInt64Key("order.item_count", tracing.Travels())
	giftWrap       = tracing.NewBoolKey("order.gift_wrap")
)

func init() {
	// Known from configuration: registered without a typed variable.
	_ = tracing.Register(tracing.KeyInfo{Key: "payment.provider", Type: attribute.STRING})
	// Not constant: unknown to the check.
	_ = tracing.NewStringKey(name())
}

func name() string { return "campaign.code" }
