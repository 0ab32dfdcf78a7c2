//go:build !race

package pipeline

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/tracing"
)

// Redaction allocates nothing for a span with nothing to redact.
func TestRedactor_NoAllocsWhenClean(t *testing.T) {
	span := tracetest.SpanStub{
		Name: "orders.persist",
		Attributes: []attribute.KeyValue{
			tracing.TenantID.String("t-42"), attribute.String("db.query.text", "SELECT id FROM orders WHERE id = $1"),
			attribute.Int("order.item_count", 3), attribute.String("http.route", "/orders/{id}"),
			// URLs, pairs and text the scan looks into and leaves as they are.
			attribute.String("url.full", "https://recs.test:8443/recommendations?limit=3&page=2#top"),
			attribute.String("url.query", "limit=3&sort=asc"), attribute.String("url.path", "/orders/o-42"),
			attribute.String("db.query.text", "UPDATE users SET token = $1 WHERE id = $2"),
		},
		Status: sdktrace.Status{Code: codes.Error, Description: "dial tcp 10.0.0.7:5432: connect: connection refused"},
	}.Snapshot()
	spans := []sdktrace.ReadOnlySpan{span}
	r := tracing.NewRedactor(tracing.RedactionRules{})
	if n := testing.AllocsPerRun(200, func() { _ = redactSpans(r, spans) }); n != 0 {
		t.Errorf("redacting a clean span allocates %v times", n)
	}
}
