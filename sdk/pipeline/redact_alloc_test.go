//go:build !race

package pipeline

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/tracing"
)

// Redaction allocates nothing for a span with nothing to redact.
func TestRedactor_NoAllocsWhenClean(t *testing.T) {
	span := tracetest.SpanStub{
		Name: "orders.persist",
		Attributes: []attribute.KeyValue{
			tracing.OrderID.String("o-42"), attribute.String("db.query.text", "SELECT id FROM orders WHERE id = $1"),
			attribute.Int("order.item_count", 3), attribute.String("http.route", "/orders/{id}"),
		},
	}.Snapshot()
	spans := []sdktrace.ReadOnlySpan{span}
	r := tracing.NewRedactor(tracing.RedactionRules{})
	if n := testing.AllocsPerRun(200, func() { _ = redactSpans(r, spans) }); n != 0 {
		t.Errorf("redacting a clean span allocates %v times", n)
	}
}
