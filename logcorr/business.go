package logcorr

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
)

// registry is the conventions' business keys that travel in baggage.
var registry = []string{"order.id", "user.id", "tenant.id", "order.amount", "order.currency", "order.item_count", "payment.provider"}

// business returns the business attributes carried by ctx.
func business(ctx context.Context) []attribute.KeyValue {
	bag := baggage.FromContext(ctx)
	var kvs []attribute.KeyValue
	for _, k := range registry {
		if m := bag.Member(k); m.Key() != "" {
			kvs = append(kvs, attribute.String(k, m.Value()))
		}
	}
	return kvs
}
