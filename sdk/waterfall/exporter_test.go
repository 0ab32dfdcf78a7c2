package waterfall_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a bytes.Buffer safe for the exporter's timer goroutine,
// which signals every write.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed, and replaced, by each Write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
	}
	b.written = make(chan struct{})
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until out contains want, waking at each write, and fails
// after a generous deadline.
func waitFor(t *testing.T, out *syncBuffer, want string) string {
	t.Helper()
	deadline := time.NewTimer(tracingtest.DefaultWaitTimeout)
	defer deadline.Stop()
	for {
		out.mu.Lock()
		got := out.buf.String()
		if out.written == nil {
			out.written = make(chan struct{})
		}
		written := out.written
		out.mu.Unlock()
		if strings.Contains(got, want) {
			return got
		}
		select {
		case <-written:
		case <-deadline.C:
			t.Fatalf("output never contained %q:\n%s", want, got)
		}
	}
}

func provider(service string, e sdktrace.SpanExporter) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(e)),
	)
}

func TestExporter_PrintsTraceWhenLocalRootEnds(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithLinger(20*time.Millisecond), waterfall.WithWidth(100))
	tp := provider("gateway", exp)
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")

	ctx, root := tr.Start(context.Background(), "POST /checkout")
	_, child := tr.Start(ctx, "orders.create")
	child.End()
	if s := out.String(); s != "" {
		t.Fatalf("printed before the root ended:\n%s", s)
	}
	root.End()
	got := waitFor(t, &out, "POST /checkout")
	if !strings.Contains(got, "└─ orders.create") || !strings.Contains(got, "2 spans") {
		t.Errorf("trace printed without its child:\n%s", got)
	}
	if strings.Contains(got, "root span not ended") {
		t.Errorf("ended trace labelled as not ended:\n%s", got)
	}
}

// The exporter reads the registry when it prints, not when it is created: a
// key the program registers later is in the header.
func TestExporter_HeaderShowsKeysRegisteredAfterCreation(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithLinger(20*time.Millisecond), waterfall.WithWidth(200))
	tp := provider("gateway", exp)
	defer tp.Shutdown(context.Background())
	giftWrap := tracing.NewBoolKey("gift.wrap", tracing.Travels())

	_, root := tp.Tracer("test").Start(context.Background(), "POST /checkout")
	root.SetAttributes(giftWrap.Bool(true))
	root.End()
	got := waitFor(t, &out, "POST /checkout")
	if header, _, _ := strings.Cut(got, "\n"); !strings.HasSuffix(header, "1 span  gift.wrap=true") {
		t.Errorf("header %q, want gift.wrap=true in it", header)
	}
}

// Two services in one process, the second called by the first with a
// propagated (remote) parent: one waterfall holds both, in one tree.
func TestExporter_GroupsServicesOfOneProcessByTrace(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithLinger(50*time.Millisecond), waterfall.WithWidth(100))
	gw, orders := provider("gateway", exp), provider("orders", exp)
	defer gw.Shutdown(context.Background())
	defer orders.Shutdown(context.Background())

	ctx, root := gw.Tracer("t").Start(context.Background(), "POST /checkout")
	remote := trace.ContextWithRemoteSpanContext(context.Background(), trace.SpanContextFromContext(ctx))
	_, server := orders.Tracer("t").Start(remote, "POST /orders")
	server.End() // a local root of orders: starts the wait, must not print alone
	root.End()

	got := waitFor(t, &out, "2 spans")
	if strings.Count(got, "trace ") != 1 {
		t.Fatalf("want one waterfall, got:\n%s", got)
	}
	if !strings.Contains(got, "gateway") || !strings.Contains(got, "orders") || !strings.Contains(got, "└─ POST /orders") {
		t.Errorf("services not in one tree:\n%s", got)
	}
}

func TestExporter_PrintsUnendedTraceAfterTimeout(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithTimeout(30*time.Millisecond))
	tp := provider("gateway", exp)
	defer tp.Shutdown(context.Background())

	ctx, root := tp.Tracer("t").Start(context.Background(), "stuck")
	_, child := tp.Tracer("t").Start(ctx, "db.query")
	child.End()
	got := waitFor(t, &out, "root span not ended")
	if !strings.Contains(got, "db.query") {
		t.Errorf("timed out trace printed without its span:\n%s", got)
	}
	root.End() // arrives after its trace was printed: a continuation
	got = waitFor(t, &out, "continued")
	if !strings.Contains(lineWith(got, "continued"), "stuck") {
		t.Errorf("late root not printed as a continuation:\n%s", got)
	}
}

func TestExporter_BoundsBufferedSpans(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithMaxSpans(2), waterfall.WithTimeout(time.Hour))
	// Three traces with no ended root: the third span pushes the oldest trace
	// out at once, without waiting for the timeout.
	stubs := tracetest.SpanStubs{
		stub(1, 2, 1, false, "gateway", "first", 0, time.Millisecond),
		stub(2, 2, 1, false, "gateway", "second", 0, time.Millisecond),
		stub(3, 2, 1, false, "gateway", "third", 0, time.Millisecond),
	}.Snapshots()
	for _, s := range stubs {
		if err := exp.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{s}); err != nil {
			t.Fatal(err)
		}
	}
	got := out.String()
	if !strings.Contains(got, "first") || strings.Contains(got, "second") {
		t.Errorf("want only the oldest trace evicted, got:\n%s", got)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = out.String()
	if !strings.Contains(got, "second") || !strings.Contains(got, "third") {
		t.Errorf("Shutdown did not print the buffered traces:\n%s", got)
	}
	if err := exp.ExportSpans(context.Background(), stubs[:1]); err != nil {
		t.Errorf("ExportSpans after Shutdown: %v", err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if n := strings.Count(out.String(), "trace "); n != 3 {
		t.Errorf("want 3 waterfalls after shutdown, got %d:\n%s", n, out.String())
	}
}

func TestExporter_ConcurrentTraces(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithLinger(time.Millisecond))
	tp := provider("gateway", exp)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				ctx, root := tp.Tracer("t").Start(context.Background(), "op")
				_, c := tp.Tracer("t").Start(ctx, "child")
				c.End()
				root.End()
			}
		})
	}
	wg.Wait()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "trace "); n != 160 {
		t.Errorf("want 160 waterfalls, got %d", n)
	}
}

func lineWith(s, sub string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// gateWriter blocks every Write until release is closed, and says when the
// first one has started.
type gateWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	n       atomic.Int64
}

func (w *gateWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.n.Add(1)
	return len(p), nil
}

func TestExporter_ShutdownWaitsForTracesBeingPrinted(t *testing.T) {
	w := &gateWriter{entered: make(chan struct{}), release: make(chan struct{})}
	exp := waterfall.NewExporter(w, waterfall.WithLinger(time.Millisecond))
	_, root := provider("gateway", exp).Tracer("t").Start(context.Background(), "op")
	root.End()
	<-w.entered // the linger timer has taken the trace and is writing it

	done := make(chan error)
	go func() { done <- exp.Shutdown(context.Background()) }()
	select {
	case <-done:
		t.Fatal("Shutdown returned while a trace was still being written")
	case <-time.After(50 * time.Millisecond):
	}
	close(w.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := w.n.Load(); got != 1 {
		t.Errorf("want 1 write, got %d", got)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// A write that fails, on the linger timer's goroutine, is reported through
// otel.Handle and does not stop the exporter.
func TestExporter_WriteErrorsAreReported(t *testing.T) {
	reports := tracingtest.CaptureReports(t)
	exp := waterfall.NewExporter(failingWriter{}, waterfall.WithLinger(time.Millisecond))
	tp := provider("gateway", exp)
	defer tp.Shutdown(context.Background())
	_, root := tp.Tracer("t").Start(context.Background(), "POST /checkout")
	root.End()
	err := reports.WaitFor(t, func(err error) bool { return errors.Is(err, errDiskFull) })
	if err == nil || !strings.HasPrefix(err.Error(), "waterfall: writing traces") {
		t.Errorf("report %v", err)
	}
	_, next := tp.Tracer("t").Start(context.Background(), "GET /orders")
	next.End()
	reports.WaitFor(t, func(e error) bool { return e != err && errors.Is(e, errDiskFull) })
}

// A trace printed whole carries its diagnosis; a part of a trace (root not
// ended, or a continuation) does not, since it would be about the part.
func TestExporter_DiagnosesWholeTracesOnly(t *testing.T) {
	var out syncBuffer
	exp := waterfall.NewExporter(&out, waterfall.WithLinger(time.Millisecond), waterfall.WithTimeout(30*time.Millisecond), waterfall.WithColor(false))
	tp := provider("gateway", exp)
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("t")

	ctx, root := tr.Start(context.Background(), "POST /checkout")
	_, rec := tr.Start(ctx, "GET")
	rec.SetStatus(codes.Error, "recommendations unavailable")
	rec.End()
	root.End()
	got := waitFor(t, &out, "POST /checkout")
	if !strings.Contains(got, "⚑ error-absorbed: gateway GET: failed: recommendations unavailable; absorbed by gateway POST /checkout") {
		t.Errorf("whole trace printed without its diagnosis:\n%s", got)
	}

	var part syncBuffer
	tp2 := provider("gateway", waterfall.NewExporter(&part, waterfall.WithTimeout(30*time.Millisecond), waterfall.WithColor(false)))
	defer tp2.Shutdown(context.Background())
	ctx, stuck := tp2.Tracer("t").Start(context.Background(), "stuck")
	_, child := tp2.Tracer("t").Start(ctx, "db.query")
	child.SetStatus(codes.Error, "boom")
	child.End()
	got = waitFor(t, &part, "root span not ended")
	if strings.Contains(got, "⚑") {
		t.Errorf("a part of a trace was diagnosed:\n%s", got)
	}
	stuck.End()
}
