package tracingtest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

func TestWaitForN_SpansEndingOnSeveralGoroutines(t *testing.T) {
	rec := tracingtest.New(t)
	ctx, batch := tracing.Start(context.Background(), "orders.batch")
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _ = tracing.Run(ctx, "orders.process", func(context.Context) error { return nil }) })
	}
	got := rec.WaitForN(t, 3, "orders.process", tracingtest.ChildOf(batch))
	wg.Wait()
	batch.End()
	if len(got) != 3 {
		t.Fatalf("WaitForN returned %d spans, want 3", len(got))
	}
	for _, s := range got {
		rec.AssertParent(t, rec.Span(t, "orders.batch"), s)
	}
	if got := rec.WaitForN(t, 0, "orders.process"); len(got) != 0 {
		t.Errorf("WaitForN(0) returned %d spans", len(got))
	}
}

// Spans exported by a pipeline the code under test builds, here a batch
// processor exporting on its own goroutine, are waited for like the others.
func TestExporter_RecordsAnotherPipelinesSpans(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(rec.Exporter(), sdktrace.WithBatchTimeout(time.Millisecond)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, root := tp.Tracer("t").Start(context.Background(), "outbox.relay")
	_, send := tp.Tracer("t").Start(ctx, "send orders", trace.WithSpanKind(trace.SpanKindProducer))
	send.End()
	root.End()
	rec.AssertParent(t, rec.WaitFor(t, "outbox.relay"), rec.WaitFor(t, "send orders", tracingtest.OfKind(trace.SpanKindProducer)))
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Spans()); n != 2 {
		t.Errorf("recorder holds %d spans after the pipeline shut down, want 2", n)
	}
}

// A wait that times out fails the test with one line saying what was there.
func TestWaitFor_TimeoutSaysWhatWasRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(rec *tracingtest.Recorder, ft *fakeTB) any
		want string
	}{
		{"none of that name", func(rec *tracingtest.Recorder, ft *fakeTB) any {
			return rec.WaitFor(ft, "process order")
		}, `waited 1ms for 1 ended span(s) "process order", 0 ended: closest names "process orders", "orders.create"`},
		{"fewer than asked", func(rec *tracingtest.Recorder, ft *fakeTB) any {
			return rec.WaitForN(ft, 2, "orders.create")
		}, `waited 1ms for 2 ended span(s) "orders.create", 1 ended`},
		{"still open", func(rec *tracingtest.Recorder, ft *fakeTB) any {
			_, s := tracing.Start(context.Background(), "orders.ship")
			defer s.End()
			return rec.WaitFor(ft, "orders.ship")
		}, `waited 1ms for 1 ended span(s) "orders.ship", 0 ended: still open: "orders.ship" (test, internal)`},
		{"filtered", func(rec *tracingtest.Recorder, ft *fakeTB) any {
			return rec.WaitFor(ft, "process orders", tracingtest.OfKind(trace.SpanKindServer))
		}, `waited 1ms for 1 ended span(s) "process orders", 0 ended: the filters reject "process orders" (test, consumer)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTB{}
			rec := tracingtest.New(ft, tracingtest.WithWaitTimeout(time.Millisecond), tracingtest.WithWaitTimeout(0))
			_ = tracing.Run(context.Background(), "orders.create", func(context.Context) error { return nil })
			_, p := rec.TracerProvider().Tracer("t").Start(context.Background(), "process orders", trace.WithSpanKind(trace.SpanKindConsumer))
			p.End()
			got := tc.run(rec, ft)
			if !ft.fatal || !isNil(got) {
				t.Errorf("timeout: fatal %v, returned %v", ft.fatal, got)
			}
			msg := ft.failures()
			if msg != "tracingtest: "+tc.want {
				t.Errorf("message\n%s\nwant\ntracingtest: %s", msg, tc.want)
			}
			ft.reset()
			ft.finish()
			if strings.Count(ft.logged(), "recorded spans when the test ended") != 1 {
				t.Errorf("waterfall not printed once at the end:\n%s", ft.logged())
			}
		})
	}
}

func isNil(v any) bool {
	switch v := v.(type) {
	case sdktrace.ReadOnlySpan:
		return v == nil
	case []sdktrace.ReadOnlySpan:
		return v == nil
	}
	return v == nil
}
