package stub // want package:"keys \\+2 from dependencies"

// Package stub is a package of the SDK half: it implements the conventions
// and is not checked.

import (
	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/attribute"
)

var (
	_ = tracing.UserID
	_ = attribute.String("user.id", "x")
)
