package businesskey

import (
	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/attribute"
)

// Must not report.

var (
	fromRegistry = tracing.OrderID.String("ord-1")
	countKey     = tracing.OrderItemCount.Int(3)
	otherNS      = attribute.String("http.route", "/orders")
	noNamespace  = attribute.String("order", "x")
	dynamic      = attribute.String(keyName(), "x")
)

func keyName() string { return "order.id" }

// Must report.

var (
	adHoc      = attribute.String("order.id", "ord-1")         // want `attribute key "order.id" is registered: use tracing.OrderID`
	adHocInt   = attribute.Int("order.item_count", 3)          // want `attribute key "order.item_count" is registered: use tracing.OrderItemCount`
	adHocKey   = attribute.Key("user.id")                      // want `attribute key "user.id" is registered: use tracing.UserID`
	wrongType  = attribute.Bool("order.id", true)              // want `attribute key "order.id" is registered: use tracing.OrderID`
	unregister = attribute.String("order.coupon", "SPRING")    // want `attribute key "order.coupon" is in the registered namespace order.: declare it with tracing.NewStringKey`
	unregKey   = attribute.Key("payment.provider.api_version") // want `attribute key "payment.provider.api_version" is in the registered namespace payment.`
	constKey   = attribute.Int64(orderCount, 2)                // want `use tracing.OrderItemCount`
)

const orderCount = "order.item_count"
