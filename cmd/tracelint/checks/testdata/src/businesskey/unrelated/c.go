// Package unrelated depends on no package that registers keys: nothing is
// registered in its program, so no key is enforced.
package unrelated

import "go.opentelemetry.io/otel/attribute"

var (
	orderID = attribute.String("order.id", "ord-1")
	userID  = attribute.Key("user.id")
)
