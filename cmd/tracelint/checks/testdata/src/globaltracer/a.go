package globaltracer

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

type config struct{ tp trace.TracerProvider }

// Must not report: a provider option defaulting to the global provider.
func newConfig(tp trace.TracerProvider) config {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return config{tp: tp}
}

// Must report.
func charge(ctx context.Context) {
	_, span := otel.Tracer("payments").Start(ctx, "payments.charge") // want `otel.Tracer bypasses the conventions`
	defer span.End()
}
