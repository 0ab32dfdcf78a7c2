package tracing

import (
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/conv"
)

// ErrInvalidName is wrapped by the errors of [ValidName].
var ErrInvalidName = conv.ErrInvalidName

// ValidName reports whether name is a business span name:
// `<domain>.<operation>` in lower snake case, such as
// `checkout.charge_payment` or `inventory.validate_stock_levels`. More than
// two segments are allowed (`payments.provider.charge`). Every segment starts
// with a letter and holds only a-z, 0-9 and '_'; a run of four or more digits
// is refused because it is an id, not an operation.
//
// Protocol spans (`GET /orders/{id}`, `send orders`) follow the OTel semantic
// conventions instead and are produced by the instrumentation packages, not
// by the helpers.
func ValidName(name string) error { return conv.ValidName(name) }

// StrictNames makes the helpers call fail, instead of the production report,
// when they are asked to start a span with an invalid name from tp (the span
// is still started). The test kit tracing/tracingtest turns it on for the
// providers it creates, so a bad name fails the test. The returned function
// turns it off.
func StrictNames(tp trace.TracerProvider, fail func(name string, err error)) (stop func()) {
	return conv.StrictNames(tp, fail)
}
