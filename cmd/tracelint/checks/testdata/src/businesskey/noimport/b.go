package noimport

import "go.opentelemetry.io/otel/attribute"

var adHoc = attribute.String("order.id", "ord-1") // want `attribute key "order.id" is registered: use tracing.OrderID`
