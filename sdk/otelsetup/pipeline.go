package otelsetup

import (
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/sdk/internal/batch"
	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/tracing"
)

// conventionsConfig holds the conventions options of [Setup].
type conventionsConfig struct {
	noBaggage   bool
	noRedaction bool
	rules       tracing.RedactionRules
	redactor    *tracing.Redactor

	keepErrors bool
	slow       time.Duration
	keeper     *pipeline.KeepErrorsProcessor

	classifier tracing.ErrorClassifier
}

// WithRedaction sets the rules of the redaction applied to every span before
// any exporter sees it. By default the zero [tracing.RedactionRules] apply: see
// [RedactAttr].
func WithRedaction(rules tracing.RedactionRules) Option {
	return optionFunc(func(c *config) {
		c.conv.rules = rules
		c.conv.noRedaction = false
		c.conv.redactor = nil
	})
}

// WithoutRedaction exports attributes as they are recorded. By default
// secrets and personal data are redacted before export.
func WithoutRedaction() Option {
	return optionFunc(func(c *config) { c.conv.noRedaction = true })
}

// WithoutBusinessBaggage stops copying business baggage onto spans. By
// default [pipeline.NewBaggageSpanProcessor] is registered, so keys set with
// [SetBusiness] upstream appear on every span.
func WithoutBusinessBaggage() Option {
	return optionFunc(func(c *config) { c.conv.noBaggage = true })
}

// WithKeepErrors records every span and exports, besides the traces the
// head sampler samples, the spans that end with status Error or last at
// least slowerThan (errors only if slowerThan is zero or negative). It wraps
// the sampler with [pipeline.KeepErrorsSampler] and registers a
// [pipeline.KeepErrorsProcessor] over every exporter. Traces kept this way are
// partial; see the package documentation for the collector tail-sampling
// configuration that completes them. By default only the head sampler
// decides what is exported.
func WithKeepErrors(slowerThan time.Duration) Option {
	return optionFunc(func(c *config) {
		c.conv.keepErrors = true
		c.conv.slow = slowerThan
	})
}

// WithErrorClassifier sets the classifier of expected outcomes that [End],
// [Run] and [RecordError] consult for the spans of the provider Setup
// builds, in place of the process-wide one ([SetErrorClassifier]); spans of
// other providers are not affected, so several Setups in one process (see
// [WithoutGlobals]) each keep their own. Shutdown removes it. By default
// only the caller's context.Canceled is expected.
func WithErrorClassifier(c tracing.ErrorClassifier) Option {
	return optionFunc(func(cfg *config) { cfg.conv.classifier = c })
}

// spanProcessors returns the processors Setup registers with the export
// pipeline: baggage copying and error keeping.
func (c *conventionsConfig) spanProcessors() []sdktrace.SpanProcessor {
	var ps []sdktrace.SpanProcessor
	if !c.noBaggage {
		ps = append(ps, pipeline.NewBaggageSpanProcessor())
	}
	if c.keepErrors {
		ps = append(ps, c.keep())
	}
	return ps
}

func (c *conventionsConfig) keep() *pipeline.KeepErrorsProcessor {
	if c.keeper == nil {
		c.keeper = pipeline.NewKeepErrorsProcessor(c.slow)
	}
	return c.keeper
}

// wrapExporter wraps every exporter Setup creates: redaction first, so that
// nothing reaches e unredacted, and, with error keeping, a second path for
// the interesting unsampled spans.
func (c *conventionsConfig) wrapExporter(e sdktrace.SpanExporter) sdktrace.SpanExporter {
	if e == nil {
		return nil
	}
	if !c.noRedaction {
		if c.redactor == nil {
			c.redactor = tracing.NewRedactor(c.rules)
		}
		e = pipeline.NewRedactingExporter(e, c.redactor)
	}
	if c.keepErrors {
		e = batch.Serial(e)
		c.keep().AddExporter(e)
	}
	return e
}

// sampler wraps the sampler chosen from the environment or options.
func (c *conventionsConfig) sampler(s sdktrace.Sampler) sdktrace.Sampler {
	if c.keepErrors && s != nil {
		return pipeline.KeepErrorsSampler(s)
	}
	return s
}
