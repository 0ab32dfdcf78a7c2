package w3c_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// extractCtx returns the context Extract returns for a valid traceparent
// and the tracestate values ts.
func extractCtx(parent context.Context, ts ...string) context.Context {
	h := http.Header{"Traceparent": {valid00}}
	if len(ts) > 0 {
		h["Tracestate"] = ts
	}
	return w3c.TraceContext{}.Extract(parent, propagation.HeaderCarrier(h))
}

// sent returns the tracestate Inject sets for ctx, "" if none.
func sent(t *testing.T, ctx context.Context) string {
	t.Helper()
	h := http.Header{}
	w3c.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
	v := h.Values("tracestate")
	if len(v) > 1 {
		t.Fatalf("%d tracestate fields", len(v))
	}
	return strings.Join(v, "")
}

// withTraceState returns ctx whose span context has the tracestate made by
// mutate from the current one, as a sampler or a vendor's code changes it.
func withTraceState(t *testing.T, ctx context.Context, mutate func(trace.TraceState) (trace.TraceState, error)) context.Context {
	t.Helper()
	sc := trace.SpanContextFromContext(ctx)
	ts, err := mutate(sc.TraceState())
	if err != nil {
		t.Fatal(err)
	}
	return trace.ContextWithSpanContext(ctx, sc.WithTraceState(ts))
}

// Members changed after Extract are moved to the left, the unchanged keep
// their order, deleted ones go: the mutation rules of the specification,
// with members trace.TraceState cannot hold.
func TestInject_MutatedTracestate(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		mutate func(trace.TraceState) (trace.TraceState, error)
		want   string
	}{
		{
			// The example of the specification: Congo's second position
			// replaces its first.
			"spec example",
			"rojo=rojosFirstPosition,congo=congosFirstPosition",
			func(ts trace.TraceState) (trace.TraceState, error) { return ts.Insert("congo", "congosSecondPosition") },
			"congo=congosSecondPosition,rojo=rojosFirstPosition",
		},
		{
			"spec example with Level 2 keys",
			"rojo@=rojosFirstPosition,congo=congosFirstPosition,1vendor=x",
			func(ts trace.TraceState) (trace.TraceState, error) { return ts.Insert("congo", "congosSecondPosition") },
			"congo=congosSecondPosition,rojo@=rojosFirstPosition,1vendor=x",
		},
		{
			"unchanged",
			"a=1,foo@=2,b=3",
			func(ts trace.TraceState) (trace.TraceState, error) { return ts, nil },
			"a=1,foo@=2,b=3",
		},
		{
			"added, updated and deleted",
			"a=1,foo@=2,b=3,c=4",
			func(ts trace.TraceState) (trace.TraceState, error) {
				ts, err := ts.Insert("b", "9")
				if err != nil {
					return ts, err
				}
				return ts.Delete("c").Insert("new", "x")
			},
			"new=x,b=9,a=1,foo@=2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := withTraceState(t, extractCtx(context.Background(), tt.in), tt.mutate)
			if got := sent(t, ctx); got != tt.want {
				t.Errorf("tracestate sent = %q, want %q", got, tt.want)
			}
		})
	}
}

// Inject never sends more than 32 members: a member added to a full list
// pushes out the right-most one, as the specification asks.
func TestInject_AtMost32Members(t *testing.T) {
	var members []string
	for i := range 20 {
		members = append(members, fmt.Sprintf("k%02d=%d", i, i))
	}
	for i := range 12 {
		members = append(members, fmt.Sprintf("%02d@=%d", i, i)) // Level 2 keys
	}
	ctx := extractCtx(context.Background(), strings.Join(members, ","))
	if got, want := sent(t, ctx), strings.Join(members, ","); got != want {
		t.Fatalf("32 members: sent %q, want %q", got, want)
	}
	ctx = withTraceState(t, ctx, func(ts trace.TraceState) (trace.TraceState, error) { return ts.Insert("new", "x") })
	want := "new=x," + strings.Join(members[:31], ",")
	if got := sent(t, ctx); got != want {
		t.Errorf("33rd member added: sent %q, want %q", got, want)
	}
}

// The specification asks to propagate at least 512 characters of
// tracestate: Inject sends any valid list whole, here one of 32 members and
// over 700 characters.
func TestInject_LongTracestateSentWhole(t *testing.T) {
	var members []string
	for i := range 32 {
		key := fmt.Sprintf("tenant@vendor%02d", i)
		if i%2 == 1 {
			key = fmt.Sprintf("vendor@%02d", i) // a Level 2 key
		}
		members = append(members, key+"="+strings.Repeat("v", 15))
	}
	in := strings.Join(members, ",")
	if len(in) < 512 {
		t.Fatalf("test tracestate of %d characters", len(in))
	}
	if got := sent(t, extractCtx(context.Background(), in)); got != in {
		t.Errorf("sent %q, want %q", got, in)
	}
}

// A child span continues the trace and carries the tracestate on; a new
// root span restarts the trace, and the specification asks that the
// tracestate be cleaned up with it.
func TestInject_FollowsTheTrace(t *testing.T) {
	rec := tracingtest.New(t)
	tracer := rec.TracerProvider().Tracer("w3c-test")
	ctx := extractCtx(context.Background(), "foo@=1,bar=2")

	child, span := tracer.Start(ctx, "test.child")
	span.End()
	if got := sent(t, child); got != "foo@=1,bar=2" {
		t.Errorf("child span: sent %q", got)
	}
	root, span := tracer.Start(ctx, "test.root", trace.WithNewRoot())
	span.End()
	if got := sent(t, root); got != "" {
		t.Errorf("new root span: sent %q, want none", got)
	}
}

// A second Extract into a context that already holds an extracted list
// replaces it, even when the new tracestate has only keys trace.TraceState
// holds, or none.
func TestExtract_ReplacesEarlierTracestate(t *testing.T) {
	first := extractCtx(context.Background(), "foo@=1,bar=2")
	if got := sent(t, extractCtx(first, "baz=3")); got != "baz=3" {
		t.Errorf("second tracestate: sent %q, want %q", got, "baz=3")
	}
	if got := sent(t, extractCtx(first)); got != "" {
		t.Errorf("no second tracestate: sent %q, want none", got)
	}
}
