package w3c_test

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/w3c"
)

func Example() {
	in := http.Header{}
	in.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")
	in.Add("tracestate", "rojo=00f067aa0ba902b7, ,")
	in.Add("tracestate", "congo=t61rcWkgMzE")

	p := w3c.TraceContext{}
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
	sc := trace.SpanContextFromContext(ctx)
	fmt.Println("trace:", sc.TraceID(), "sampled:", sc.IsSampled(), "random:", sc.IsRandom())
	fmt.Println("tracestate:", sc.TraceState())

	// A second traceparent makes the context invalid: a new trace starts.
	in.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx = p.Extract(context.Background(), propagation.HeaderCarrier(in))
	fmt.Println("valid with two traceparents:", trace.SpanContextFromContext(ctx).IsValid())
	// Output:
	// trace: 4bf92f3577b34da6a3ce929d0e0e4736 sampled: true random: true
	// tracestate: rojo=00f067aa0ba902b7,congo=t61rcWkgMzE
	// valid with two traceparents: false
}

// Keys of the Level 2 grammar, such as "rojo@", cross the service although
// trace.TraceState, and so the span context, cannot hold them; of a
// duplicated key, the first member is kept.
func Example_level2Keys() {
	in := http.Header{}
	in.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	in.Add("tracestate", "rojo@=00f067aa0ba902b7,congo=t61rcWkgMzE,congo=older")

	p := w3c.TraceContext{}
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
	fmt.Println("span context:", trace.SpanContextFromContext(ctx).TraceState())

	out := http.Header{}
	p.Inject(ctx, propagation.HeaderCarrier(out))
	fmt.Println("sent:", out.Get("tracestate"))
	// Output:
	// span context: congo=t61rcWkgMzE
	// sent: rojo@=00f067aa0ba902b7,congo=t61rcWkgMzE
}
