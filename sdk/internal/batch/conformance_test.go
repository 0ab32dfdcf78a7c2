package batch

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The conformance suite runs every row against this package's Processor and
// against the SDK's batch span processor configured identically (queue
// size, batch size, schedule delay, export timeout), through a
// TracerProvider and a recording exporter. A row whose outcome differs
// between the two says how in its differs column, and only such a row may
// ask which processor it runs against (run.ours fails the row otherwise).
// Exporters block on channels to make each row deterministic; time bounds
// only detect a hang.

// hang is how long a row waits for something that should happen at once.
const hang = 10 * time.Second

// sdkScopeName is the instrumentation scope of the SDK processor's metrics.
const sdkScopeName = "go.opentelemetry.io/otel/sdk/trace/internal/observ"

type subject struct {
	name string
	ours bool
	new  func(sdktrace.SpanExporter, Config) sdktrace.SpanProcessor
}

var subjects = []subject{
	{name: "ours", ours: true, new: func(e sdktrace.SpanExporter, c Config) sdktrace.SpanProcessor { return New(e, c) }},
	{name: "sdk", new: func(e sdktrace.SpanExporter, c Config) sdktrace.SpanProcessor {
		return sdktrace.NewBatchSpanProcessor(e,
			sdktrace.WithMaxQueueSize(c.maxQueue),
			sdktrace.WithMaxExportBatchSize(c.maxBatch),
			sdktrace.WithBatchTimeout(c.delay),
			sdktrace.WithExportTimeout(c.timeout))
	}},
}

// bspConfig is the configuration of a row, for both processors.
func bspConfig(queue, batch int, delay, timeout time.Duration) Config {
	c := DefaultConfig()
	c.maxQueue, c.maxBatch, c.delay, c.timeout = queue, batch, delay, timeout
	return c
}

// run is one row against one processor.
type run struct {
	*testing.T
	subject
	differs string

	exp       *batchExporter
	p         sdktrace.SpanProcessor
	sampled   trace.Tracer
	unsampled trace.Tracer // recorded, not sampled: the processor sees it
	ended     int
}

func newRun(t *testing.T, s subject, differs string) *run {
	noBatcherLeaks(t)
	r := &run{T: t, subject: s, differs: differs, exp: &batchExporter{
		gate:     make(chan struct{}),
		entered:  make(chan struct{}, 1024),
		exported: make(chan struct{}, 1024),
	}}
	// Last in, first out: the exporter is released and the processor
	// shut down before the leak check.
	t.Cleanup(func() {
		r.exp.release()
		if r.p != nil {
			_ = r.p.Shutdown(context.Background())
		}
		r.exp.check(t)
	})
	return r
}

// start makes the processor and the providers ending spans through it.
// The exporter's gate is open unless gated.
func (r *run) start(c Config, gated bool) {
	if !gated {
		r.exp.release()
	}
	r.p = r.new(r.exp, c)
	r.sampled = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.p)).Tracer("t")
	r.unsampled = sdktrace.NewTracerProvider(sdktrace.WithSampler(recordOnly{}), sdktrace.WithSpanProcessor(r.p)).Tracer("t")
}

// end ends n sampled spans, named span-0, span-1... across calls, and
// returns their names.
func (r *run) end(n int) []string {
	var names []string
	for range n {
		name := fmt.Sprintf("span-%d", r.ended)
		r.ended++
		_, s := r.sampled.Start(context.Background(), name)
		s.End()
		names = append(names, name)
	}
	return names
}

func (r *run) endUnsampled(n int) {
	for range n {
		_, s := r.unsampled.Start(context.Background(), "unsampled")
		s.End()
	}
}

// ours reports whether the row runs against this package's processor; only
// a row that declares a difference may ask.
func (r *run) ours() bool {
	r.Helper()
	if r.differs == "" {
		r.Fatal("a row without a declared difference asks which processor it runs against")
	}
	return r.subject.ours
}

// await waits for n signals on c.
func (r *run) await(c chan struct{}, n int, what string) {
	r.Helper()
	for i := range n {
		select {
		case <-c:
		case <-time.After(hang):
			r.Fatalf("%s: %d of %d after %v (batches %v)", what, i, n, hang, r.exp.sizes())
		}
	}
}

// bounded runs f and fails the row if it has not returned within hang.
func (r *run) bounded(what string, f func()) {
	r.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(hang):
		r.Fatalf("%s did not return within %v", what, hang)
	}
}

func (r *run) shutdown(ctx context.Context) (err error) {
	r.Helper()
	r.bounded("Shutdown", func() { err = r.p.Shutdown(ctx) })
	return err
}

func (r *run) flush(ctx context.Context) (err error) {
	r.Helper()
	r.bounded("ForceFlush", func() { err = r.p.ForceFlush(ctx) })
	return err
}

func (r *run) shutdowns() int {
	r.exp.mu.Lock()
	defer r.exp.mu.Unlock()
	return r.exp.shutdowns
}

// wantNames fails the row unless the spans exported are want, in any
// order, each exactly once.
func (r *run) wantNames(want []string) {
	r.Helper()
	got := slices.Sorted(slices.Values(r.exp.names()))
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		r.Errorf("exported %d spans %v, want %d %v", len(got), got, len(want), want)
	}
}

func TestConformance(t *testing.T) {
	for _, row := range []struct {
		name string
		// differs says how the SDK's processor behaves differently in this
		// row; empty if it does not.
		differs string
		run     func(r *run)
	}{{
		name: "only sampled spans are exported",
		run: func(r *run) {
			r.start(bspConfig(2048, 512, time.Hour, 0), false)
			r.endUnsampled(5)
			want := r.end(2)
			r.endUnsampled(5)
			if err := r.flush(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.wantNames(want)
		},
	}, {
		name: "each ended span is exported exactly once under concurrent ends, flushes and timer exports",
		run: func(r *run) {
			r.start(bspConfig(1<<16, 7, time.Millisecond, 0), false)
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 200 {
						_, s := r.sampled.Start(context.Background(), fmt.Sprintf("g%d-%d", g, i))
						s.End()
						if i%50 == 0 {
							_ = r.p.ForceFlush(context.Background())
						}
					}
				})
			}
			r.bounded("ending spans", wg.Wait)
			if err := r.shutdown(context.Background()); err != nil {
				r.Fatal(err)
			}
			var want []string
			for g := range 4 {
				for i := range 200 {
					want = append(want, fmt.Sprintf("g%d-%d", g, i))
				}
			}
			r.wantNames(want)
		},
	}, {
		name: "ForceFlush exports everything ended before it in batches of at most the batch size",
		run: func(r *run) {
			r.start(bspConfig(2048, 4, time.Hour, 0), false)
			want := r.end(10)
			if err := r.flush(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.wantNames(want)
			for _, n := range r.exp.sizes() {
				if n > 4 {
					r.Errorf("batches %v, one above the batch size 4", r.exp.sizes())
				}
			}
		},
	}, {
		name: "ForceFlush returns the exporter's error and does not report it",
		run: func(r *run) {
			reported := captureReports(r.T)
			boom := errors.New("collector refused")
			r.exp.fail = boom
			r.start(bspConfig(2048, 512, time.Hour, 0), false)
			r.end(3)
			if err := r.flush(context.Background()); !errors.Is(err, boom) {
				r.Errorf("ForceFlush: %v, want the export's error", err)
			}
			if got := reported(); len(got) != 0 {
				r.Errorf("reported %v, want nothing: the caller has the error", got)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := r.flush(ctx); !errors.Is(err, context.Canceled) {
				r.Errorf("ForceFlush with a cancelled context: %v", err)
			}
		},
	}, {
		name: "batches never exceed the batch size, at shutdown either",
		run: func(r *run) {
			r.start(bspConfig(2048, 3, time.Hour, 0), false)
			want := r.end(10)
			if err := r.shutdown(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.wantNames(want)
			if got := r.exp.sizes(); slices.Max(got) > 3 {
				r.Errorf("batches %v, one above the batch size 3", got)
			}
		},
	}, {
		name: "a full batch is exported without waiting for the delay",
		run: func(r *run) {
			r.start(bspConfig(2048, 4, time.Hour, 0), false)
			want := r.end(4)
			r.await(r.exp.exported, 1, "full batch exported")
			r.wantNames(want)
		},
	}, {
		name: "the schedule delay exports a partial batch",
		run: func(r *run) {
			r.start(bspConfig(2048, 512, 5*time.Millisecond, 0), false)
			want := r.end(3)
			for deadline := time.Now().Add(hang); len(r.exp.names()) < 3; {
				r.await(r.exp.exported, 1, "partial batch exported")
				if time.Now().After(deadline) {
					r.Fatal("partial batch not exported on schedule")
				}
			}
			r.wantNames(want)
		},
	}, {
		name: "Shutdown exports what is queued and shuts the exporter down once; a second Shutdown is harmless",
		run: func(r *run) {
			r.start(bspConfig(2048, 512, time.Hour, 0), false)
			want := r.end(5)
			if err := r.shutdown(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.wantNames(want)
			if err := r.shutdown(context.Background()); err != nil {
				r.Errorf("second Shutdown: %v", err)
			}
			if n := r.shutdowns(); n != 1 {
				r.Errorf("exporter shut down %d times, want 1", n)
			}
		},
	}, {
		name: "OnEnd after Shutdown drops the span; ForceFlush after Shutdown does nothing",
		run: func(r *run) {
			r.start(bspConfig(2048, 1, time.Hour, 0), false)
			if err := r.shutdown(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.end(3) // a batch of one each: exported at once if queued
			if err := r.flush(context.Background()); err != nil {
				r.Errorf("ForceFlush after Shutdown: %v", err)
			}
			r.wantNames(nil)
		},
	}, {
		name: "the export timeout bounds the export's context",
		run: func(r *run) {
			const timeout = 42 * time.Minute
			r.start(bspConfig(2048, 512, time.Hour, timeout), false)
			r.end(1)
			if err := r.flush(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.exp.mu.Lock()
			defer r.exp.mu.Unlock()
			if d := r.exp.deadlines; len(d) != 1 || d[0] > timeout || d[0] < timeout/2 {
				r.Errorf("export deadlines %v, want one of at most %v", d, timeout)
			}
		},
	}, {
		name: "an export timeout of 0 sets no deadline",
		run: func(r *run) {
			r.start(bspConfig(2048, 512, time.Hour, 0), false)
			r.end(1)
			if err := r.flush(context.Background()); err != nil {
				r.Fatal(err)
			}
			if d := r.exp.deadlines; len(d) != 0 {
				r.Errorf("export deadlines %v, want none", d)
			}
		},
	}, {
		name:    "a Shutdown whose context is already done returns promptly with its error",
		differs: "ours also counts the spans it did not export in the error; the SDK's returns ctx.Err() alone",
		run: func(r *run) {
			// The export never passes the gate: the spans can only be
			// lost, and only the context can end Shutdown.
			r.start(bspConfig(2048, 512, time.Hour, 0), true)
			r.end(3)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := r.shutdown(ctx)
			if !errors.Is(err, context.Canceled) {
				r.Errorf("Shutdown: %v, want context.Canceled", err)
			}
			if r.ours() && (err == nil || !strings.Contains(err.Error(), "3 spans not exported")) {
				r.Errorf("Shutdown: %v, want the 3 spans counted", err)
			}
		},
	}, {
		name:    "a Shutdown whose deadline is shorter than a slow final export returns by the deadline",
		differs: "ours counts the spans not exported in the error and cancels the export with Shutdown's context; the SDK's returns ctx.Err() alone and its export goes on",
		run: func(r *run) {
			r.start(bspConfig(2048, 512, time.Hour, 0), true)
			r.end(3)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := r.shutdown(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				r.Errorf("Shutdown: %v, want the deadline", err)
			}
			if !r.ours() {
				return
			}
			if err == nil || !strings.Contains(err.Error(), "3 spans not exported") {
				r.Errorf("Shutdown: %v, want the 3 spans counted", err)
			}
			// The export sees Shutdown's deadline: it ends without the gate.
			r.bounded("the export after Shutdown's deadline", func() {
				for r.shutdowns() == 0 {
					time.Sleep(time.Millisecond)
				}
			})
		},
	}, {
		name:    "an export in flight when Shutdown's context ends is cancelled",
		differs: "the SDK's processor lets an export in flight run to its export timeout (here none) after Shutdown returned",
		run: func(r *run) {
			r.start(bspConfig(2048, 2, time.Hour, 0), true)
			r.end(2) // a full batch: taken for export, held at the gate
			r.await(r.exp.entered, 1, "full batch export started")
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := r.shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				r.Errorf("Shutdown: %v, want the deadline", err)
			}
			r.exp.mu.Lock()
			cut := slices.Clone(r.exp.cut)
			r.exp.mu.Unlock()
			if !r.ours() {
				if len(cut) != 0 {
					r.Errorf("the SDK's export was cut short (%v): the row's difference is gone", cut)
				}
				return
			}
			r.bounded("the export in flight", func() {
				for r.shutdowns() == 0 {
					time.Sleep(time.Millisecond)
				}
			})
			r.exp.mu.Lock()
			defer r.exp.mu.Unlock()
			if len(r.exp.cut) != 1 || !errors.Is(r.exp.cut[0], context.Canceled) {
				r.Errorf("exports cut %v, want the one in flight cancelled", r.exp.cut)
			}
		},
	}, {
		name:    "a full queue drops spans rather than block",
		differs: "ours reports the spans dropped through otel.Handle with their count; the SDK's drops them silently",
		run: func(r *run) {
			reported := captureReports(r.T)
			r.start(bspConfig(8, 4, time.Hour, 0), true)
			want := r.end(4) // taken for export, held at the gate
			r.await(r.exp.entered, 1, "full batch export started")
			var more []string
			r.bounded("ending spans into a full queue", func() { more = r.end(20) })
			want = append(want, more[:8]...) // the queue holds 8, the rest is dropped
			r.exp.release()
			if err := r.shutdown(context.Background()); err != nil {
				r.Fatal(err)
			}
			r.wantNames(want)
			var msgs []string
			for _, err := range reported() {
				msgs = append(msgs, err.Error())
			}
			if r.ours() {
				if len(msgs) != 1 || !strings.Contains(msgs[0], "12 spans dropped") {
					r.Errorf("reports %q, want one that 12 spans were dropped", msgs)
				}
			} else if len(msgs) != 0 {
				r.Errorf("reports %q, want none from the SDK's processor", msgs)
			}
		},
	}, {
		name:    "with OTEL_GO_X_OBSERVABILITY=true both record the SDK's processor metrics",
		differs: "the instrumentation scope: ours is this package's, the SDK's its internal observ package",
		run: func(r *run) {
			r.Setenv("OTEL_GO_X_OBSERVABILITY", "True")
			reader := useMeterProvider(r.T)
			r.start(bspConfig(8, 4, time.Hour, 0), true)
			r.end(4) // taken for export, held at the gate
			r.await(r.exp.entered, 1, "full batch export started")
			r.end(20) // 8 queued, 12 dropped

			scope := sdkScopeName
			if r.ours() {
				scope = ScopeName
			}
			const attrs = "otel.component.name=batching_span_processor/N,otel.component.type=batching_span_processor"
			want := []string{
				"otel.sdk.processor.span.processed {span} counter " + attrs + " 4",
				"otel.sdk.processor.span.processed {span} counter " + attrs + ",error.type=queue_full 12",
				"otel.sdk.processor.span.queue.capacity {span} updowncounter " + attrs + " 8",
				"otel.sdk.processor.span.queue.size {span} updowncounter " + attrs + " 8",
			}
			if got := processorMetrics(r.T, reader, scope); !slices.Equal(got, want) {
				r.Errorf("metrics before the export:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			r.exp.release()
			if err := r.shutdown(context.Background()); err != nil {
				r.Fatal(err)
			}
			// After Shutdown the queue is no longer observed.
			want = []string{
				"otel.sdk.processor.span.processed {span} counter " + attrs + " 12",
				"otel.sdk.processor.span.processed {span} counter " + attrs + ",error.type=queue_full 12",
			}
			if got := processorMetrics(r.T, reader, scope); !slices.Equal(got, want) {
				r.Errorf("metrics after Shutdown:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Spans ended after Shutdown are not counted.
			r.end(2)
			if got := processorMetrics(r.T, reader, scope); !slices.Equal(got, want) {
				r.Errorf("metrics after spans ended after Shutdown:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		},
	}, {
		name: "the observability switch is read as the SDK reads it",
		run: func(r *run) {
			for _, env := range []struct {
				obs, self string
				on        bool
			}{
				{on: false},
				{obs: "true", on: true},
				{obs: "TRUE", on: true},
				{obs: "1", on: false},
				{obs: "false", self: "true", on: false},
				{self: "true", on: true},
			} {
				r.Run(fmt.Sprintf("OBSERVABILITY=%q,SELF_OBSERVABILITY=%q", env.obs, env.self), func(t *testing.T) {
					t.Setenv("OTEL_GO_X_OBSERVABILITY", env.obs)
					t.Setenv("OTEL_GO_X_SELF_OBSERVABILITY", env.self)
					reader := useMeterProvider(t)
					sub := newRun(t, r.subject, r.differs)
					sub.start(bspConfig(2048, 512, time.Hour, 0), false)
					sub.end(1)
					if err := sub.flush(context.Background()); err != nil {
						t.Fatal(err)
					}
					if got := processorMetrics(t, reader, ""); (len(got) > 0) != env.on {
						t.Errorf("metrics %q, want them: %v", got, env.on)
					}
				})
			}
		},
	}} {
		t.Run(row.name, func(t *testing.T) {
			for _, s := range subjects {
				t.Run(s.name, func(t *testing.T) { row.run(newRun(t, s, row.differs)) })
			}
		})
	}
}

// useMeterProvider installs a global MeterProvider reading into the
// returned reader for the test's duration.
func useMeterProvider(t *testing.T) *sdkmetric.ManualReader {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() {
		otel.SetMeterProvider(prev)
		_ = mp.Shutdown(context.Background())
	})
	return reader
}

var componentID = regexp.MustCompile(`^batching_span_processor/[0-9]+$`)

// processorMetrics collects the otel.sdk.processor.* data points, one line
// each, sorted, and checks they are recorded under scope (unless empty): name, unit, kind, attributes (the component
// number replaced by N) and value.
func processorMetrics(t *testing.T, reader *sdkmetric.ManualReader, scope string) []string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if !strings.HasPrefix(m.Name, "otel.sdk.processor.") {
				continue
			}
			if scope != "" && sm.Scope.Name != scope {
				t.Errorf("%s recorded under the scope %q, want %q", m.Name, sm.Scope.Name, scope)
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Errorf("%s is a %T, want an int64 sum", m.Name, m.Data)
				continue
			}
			kind := "updowncounter"
			if sum.IsMonotonic {
				kind = "counter"
			}
			for _, dp := range sum.DataPoints {
				out = append(out, fmt.Sprintf("%s %s %s %s %d", m.Name, m.Unit, kind, pointAttrs(t, dp.Attributes), dp.Value))
			}
		}
	}
	slices.Sort(out)
	return out
}

// pointAttrs renders attrs as k=v,... with otel.component.name's number
// replaced by N, error.type last.
func pointAttrs(t *testing.T, attrs attribute.Set) string {
	var kvs, last []string
	for _, kv := range attrs.ToSlice() {
		v := kv.Value.String()
		if kv.Key == "otel.component.name" {
			if !componentID.MatchString(v) {
				t.Errorf("otel.component.name %q, want batching_span_processor/<number>", v)
			}
			v = "batching_span_processor/N"
		}
		s := string(kv.Key) + "=" + v
		if kv.Key == "error.type" {
			last = append(last, s)
			continue
		}
		kvs = append(kvs, s)
	}
	return strings.Join(append(kvs, last...), ",")
}
