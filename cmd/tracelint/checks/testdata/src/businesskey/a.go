package businesskey // want package:"keys order.wrapped:Bool:wrapped \\+6 from dependencies"

import (
	"example.com/shop/keys"
	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/attribute"
)

// The package's own key: the check knows it in this package too.
var wrapped = tracing.NewBoolKey("order.wrapped")

// Must not report.

var (
	fromRegistry = keys.OrderID.String("ord-1")
	countKey     = keys.OrderItemCount.Int(3)
	generic      = tracing.UserID.String("u-1")
	otherNS      = attribute.String("http.route", "/orders")
	noNamespace  = attribute.String("order", "x")
	dynamic      = attribute.String(keyName(), "x")
	notConstant  = attribute.String("campaign.code", "x")
)

func keyName() string { return "order.id" }

// Must report.

var (
	adHoc      = attribute.String("order.id", "ord-1")         // want `attribute key "order.id" is registered: use keys.OrderID`
	adHocInt   = attribute.Int("order.item_count", 3)          // want `attribute key "order.item_count" is registered: use keys.OrderItemCount`
	adHocKey   = attribute.Key("user.id")                      // want `attribute key "user.id" is registered: use tracing.UserID`
	own        = attribute.Bool("order.wrapped", true)         // want `attribute key "order.wrapped" is registered: use wrapped`
	wrongType  = attribute.Bool("order.id", true)              // want `attribute key "order.id" is registered: use keys.OrderID`
	unexported = attribute.Bool("order.gift_wrap", true)       // want `attribute key "order.gift_wrap" is registered by example.com/shop/keys: use the key it registers`
	configured = attribute.String("payment.provider", "acme")  // want `attribute key "payment.provider" is registered by example.com/shop/keys: use the key it registers`
	unregister = attribute.String("order.coupon", "SPRING")    // want `attribute key "order.coupon" is in the registered namespace order.: declare it with tracing.NewStringKey`
	unregKey   = attribute.Key("payment.provider.api_version") // want `attribute key "payment.provider.api_version" is in the registered namespace payment.`
	constKey   = attribute.Int64(orderCount, 2)                // want `use keys.OrderItemCount`
)

const orderCount = "order.item_count"
