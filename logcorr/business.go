package logcorr

import (
	"context"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/tracing"
)

// business returns the business attributes carried by ctx: the conventions'
// allowlisted traveling keys, already typed and validated.
func business(ctx context.Context) []attribute.KeyValue { return tracing.Business(ctx) }
