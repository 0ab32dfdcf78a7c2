package indirect // want package:"keys \\+6 from dependencies"

// Package indirect depends on the company's keys only through api, which
// re-exports what it inherits.

import (
	"example.com/shop/api"
	"go.opentelemetry.io/otel/attribute"
)

var (
	_     = api.Order("ord-1")
	adHoc = attribute.String("order.id", "ord-1") // want `attribute key "order.id" is registered: use keys.OrderID from example.com/shop/keys`
	user  = attribute.String("user.id", "u-1")    // want `attribute key "user.id" is registered: use tracing.UserID from github.com/otelkit/otelkit/tracing`
)
