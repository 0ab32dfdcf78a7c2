package tracing

import sdktrace "go.opentelemetry.io/otel/sdk/trace"

// conventionsConfig holds the conventions options of [Setup].
type conventionsConfig struct{}

// spanProcessors returns the processors Setup registers before the export
// pipeline (baggage copying, name checks).
func (c *conventionsConfig) spanProcessors() []sdktrace.SpanProcessor { return nil }

// wrapExporter wraps every exporter Setup creates (redaction, error keeping).
func (c *conventionsConfig) wrapExporter(e sdktrace.SpanExporter) sdktrace.SpanExporter { return e }

// sampler wraps the sampler chosen from the environment or options.
func (c *conventionsConfig) sampler(s sdktrace.Sampler) sdktrace.Sampler { return s }
