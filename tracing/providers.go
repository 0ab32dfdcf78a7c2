package tracing

import (
	"reflect"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/w3c"
)

// This file is the one rule by which every package of the module finds its
// TracerProvider, MeterProvider and propagator:
//
//   - a provider given by an option is used, always;
//   - otherwise the global one is read when the instrumentation is used
//     (a span starts, a record is produced, a request is sent), not when
//     it is constructed, as otelhttp reads the global TracerProvider per
//     request. An instrumentation built before tracing.Setup, or before a
//     test installs its providers, uses them;
//   - a global propagator that propagates nothing (no Fields, the OTel
//     default) is replaced by W3C trace context and baggage, so that no
//     request, record or outbox row silently loses its trace. A propagator
//     given by an option is used as it is.
//
// Reading the global costs one atomic load and a comparison per use; what an
// instrumentation builds from a provider (its tracer, its instruments, the
// headers a propagator owns) is built again only when the global changes.

// Resolver holds what one instrumentation builds from a provider of type P
// (a tracer, instruments, a propagator), resolved by the rule above. Get is
// safe for concurrent use; build may run more than once, concurrently, when
// the global changes while calls are in flight, and the last result wins.
type Resolver[P, V any] struct {
	fixed  *resolved[P, V] // built from the provider an option gave
	global func() P
	build  func(P) V
	last   atomic.Pointer[resolved[P, V]]
}

type resolved[P, V any] struct {
	p P
	v V
}

// NewResolver returns a Resolver that builds its value with build from
// explicit when it is not nil, once, and otherwise from what global
// returns when Get is called.
func NewResolver[P, V any](explicit P, global func() P, build func(P) V) *Resolver[P, V] {
	r := &Resolver[P, V]{global: global, build: build}
	if any(explicit) != nil {
		r.fixed = &resolved[P, V]{p: explicit, v: build(explicit)}
	}
	return r
}

// Get returns the value built from the provider in force.
func (r *Resolver[P, V]) Get() V {
	v, _ := r.Resolve()
	return v
}

// Resolve returns the value built from the provider in force, and that
// provider.
func (r *Resolver[P, V]) Resolve() (V, P) {
	if f := r.fixed; f != nil {
		return f.v, f.p
	}
	p := r.global()
	if e := r.last.Load(); e != nil && same(e.p, p) {
		return e.v, e.p
	}
	e := &resolved[P, V]{p: p, v: r.build(p)}
	r.last.Store(e)
	return e.v, p
}

// same reports whether a and b are the same provider. Providers are
// pointers as a rule, but a composite propagator is a slice, which == cannot
// compare: such values are the same when they share their backing array.
// It allocates nothing (reflect.Value.Comparable would).
func same(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) {
		return false
	}
	switch ta.Kind() {
	case reflect.Slice:
		va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
		return va.Len() == vb.Len() && va.Pointer() == vb.Pointer()
	case reflect.Map, reflect.Func:
		return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
	}
	return ta.Comparable() && equal(a, b)
}

// equal is a == b, false where == panics: a struct whose interface field
// holds a value that is not comparable.
func equal(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// NewTracerResolver resolves the tracer of the instrumentation scope named
// scope from tp, or from the global TracerProvider when tp is nil.
func NewTracerResolver(tp trace.TracerProvider, scope string, opts ...trace.TracerOption) *Resolver[trace.TracerProvider, trace.Tracer] {
	return NewResolver(tp, otel.GetTracerProvider, func(tp trace.TracerProvider) trace.Tracer {
		return tp.Tracer(scope, opts...)
	})
}

// NewMeterResolver resolves what build makes of mp (a meter and its
// instruments), or of the global MeterProvider when mp is nil.
func NewMeterResolver[V any](mp metric.MeterProvider, build func(metric.MeterProvider) V) *Resolver[metric.MeterProvider, V] {
	return NewResolver(mp, otel.GetMeterProvider, build)
}

// NewPropagatorResolver resolves what build makes of p, or of the global
// propagator when p is nil, W3C trace context and baggage taking the place
// of a global propagator that propagates nothing.
func NewPropagatorResolver[V any](p propagation.TextMapPropagator, build func(propagation.TextMapPropagator) V) *Resolver[propagation.TextMapPropagator, V] {
	r := NewResolver(p, otel.GetTextMapPropagator, build)
	r.build = func(g propagation.TextMapPropagator) V { return build(WithFallback(g)) }
	return r
}

// FallbackPropagator is the propagator used in place of a global one that
// propagates nothing: W3C trace context and baggage.
var FallbackPropagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{})

// WithFallback returns the global propagator g, or [FallbackPropagator]
// when g propagates nothing.
func WithFallback(g propagation.TextMapPropagator) propagation.TextMapPropagator {
	if len(g.Fields()) == 0 {
		return FallbackPropagator
	}
	return g
}

// Propagators resolves a propagator by the rule, for packages that need
// nothing built from it.
func Propagators(p propagation.TextMapPropagator) *Resolver[propagation.TextMapPropagator, propagation.TextMapPropagator] {
	return NewPropagatorResolver(p, func(p propagation.TextMapPropagator) propagation.TextMapPropagator { return p })
}
