package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// carrier is the trace context of one row: the three W3C fields have their
// own columns (readable in psql, indexable); anything else a propagator
// injects (b3, uber-trace-id...) is kept in extra, stored as jsonb.
type carrier struct {
	traceparent string
	tracestate  string
	baggage     string
	extra       map[string]string
}

var _ propagation.TextMapCarrier = (*carrier)(nil)

func (c *carrier) Get(key string) string {
	switch strings.ToLower(key) {
	case "traceparent":
		return c.traceparent
	case "tracestate":
		return c.tracestate
	case "baggage":
		return c.baggage
	}
	return c.extra[strings.ToLower(key)]
}

func (c *carrier) Set(key, value string) {
	switch k := strings.ToLower(key); k {
	case "traceparent":
		c.traceparent = value
	case "tracestate":
		c.tracestate = value
	case "baggage":
		c.baggage = value
	default:
		if c.extra == nil {
			c.extra = make(map[string]string, 1)
		}
		c.extra[k] = value
	}
}

func (c *carrier) Keys() []string {
	keys := make([]string, 0, 3+len(c.extra))
	for _, kv := range [...]struct{ k, v string }{
		{"traceparent", c.traceparent}, {"tracestate", c.tracestate}, {"baggage", c.baggage},
	} {
		if kv.v != "" {
			keys = append(keys, kv.k)
		}
	}
	for k := range c.extra {
		keys = append(keys, k)
	}
	return keys
}

// extraJSON encodes the fields beyond the W3C three, nil when there are
// none (stored as SQL NULL).
func (c *carrier) extraJSON() []byte {
	if len(c.extra) == 0 {
		return nil
	}
	b, _ := json.Marshal(c.extra) // map[string]string always encodes
	return b
}

// cleanBase returns ctx without its span and baggage: a row's context
// replaces them, and a row without a usable context must start a new trace
// rather than join whatever the relay was running under.
func cleanBase(ctx context.Context) context.Context {
	return baggage.ContextWithoutBaggage(trace.ContextWithSpanContext(ctx, trace.SpanContext{}))
}

// restore returns base (see [cleanBase]) carrying the span context and
// baggage stored in the row (c, plus the trace_extra column), and whether a
// valid span context was found.
//
// err is non-nil when the row held context data that could not be used
// (garbage rather than absence); the caller reports it and carries on.
func restore(base context.Context, p propagation.TextMapPropagator, c *carrier, extra []byte) (context.Context, bool, error) {
	var err error
	if len(extra) > 0 {
		if jerr := json.Unmarshal(extra, &c.extra); jerr != nil {
			c.extra = nil
			err = fmt.Errorf("trace_extra is not a JSON object of strings: %w", jerr)
		}
	}
	ctx := p.Extract(base, c)
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, true, err
	}
	if err == nil && (c.traceparent != "" || len(c.extra) > 0) {
		err = fmt.Errorf("stored trace context is not valid (traceparent %q)", truncate(c.traceparent, 64))
	}
	return ctx, false, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
